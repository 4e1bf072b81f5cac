{# Base-currency amounts. In a model: `from amounts {{ fx_join('amounts.currency', 'amounts.some_date') }}` and
   `{{ base_amount('amounts.amount', 'amounts.currency') }} as amount_base`. The rate is the latest one on or
   before the date (int_fx_rates_ranged); an amount already in the base currency needs none; a missing rate gives
   null, never 1.0. #}
{% macro fx_join(currency_column, date_expr) -%}
    left join {{ ref('int_fx_rates_ranged') }} as fx
        on fx.currency = {{ currency_column }}
        and fx.valid_from <= {{ date_expr }}
        and (fx.valid_to is null or {{ date_expr }} < fx.valid_to)
{%- endmacro %}

{% macro base_amount(amount_column, currency_column) -%}
    case
        when {{ currency_column }} = '{{ var("closedloop__base_currency") }}' then {{ amount_column }}
        else {{ amount_column }} * fx.rate_to_base
    end
{%- endmacro %}
