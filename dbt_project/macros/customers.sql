{# The per-customer CLV table is written by the customers asset (orchestration/defs/customers/, a Python step
   between the intermediate models and the marts: BG/NBD + Gamma-Gamma, orchestration/lib/clv.py). dbt creates it
   empty before every run, like the identity tables, so mart_customer_ltv builds on a fresh warehouse. #}
{% macro create_customer_clv_table() %}
    create schema if not exists intermediate;
    create table if not exists intermediate.customer_clv (
        person_id {{ dbt.type_string() }},
        expected_purchases {{ type_double() }},
        probability_alive {{ type_double() }},
        expected_order_value {{ type_double() }},
        clv {{ type_double() }},
        horizon_months bigint,
        model_status {{ dbt.type_string() }}
    );
    {#- projected purchases and revenue per customer-year (1..closedloop__ltv_npv_years) after the data end #}
    create table if not exists intermediate.customer_clv_years (
        person_id {{ dbt.type_string() }},
        customer_year bigint,
        expected_purchases {{ type_double() }},
        expected_revenue {{ type_double() }}
    );
    {#- one row per fitted parameter of the night's fit #}
    create table if not exists intermediate.customer_clv_fit (
        model {{ dbt.type_string() }},
        parameter {{ dbt.type_string() }},
        value {{ type_double() }},
        log_likelihood {{ type_double() }},
        customers_used bigint,
        fit_status {{ dbt.type_string() }}
    );
{% endmacro %}

{# A numeric setting (a var that may come from a CLOSEDLOOP_* variable as text), checked at compile time. #}
{% macro number_setting(name) -%}
    {%- set value = var(name) | string | trim -%}
    {%- if not (value | replace('-', '', 1) | replace('.', '', 1)).isdigit() -%}
        {{ exceptions.raise_compiler_error("var " ~ name ~ " must be a number, got: " ~ value) }}
    {%- endif -%}
    {{ return(value | float) }}
{%- endmacro %}

{# A float rounded to `digits` decimals the same way on every engine (Postgres rounds only numerics). #}
{% macro round_float(expr, digits=2) -%}
    cast(round(cast({{ expr }} as numeric(38, 10)), {{ digits }}) as {{ type_double() }})
{%- endmacro %}

{# RFM score 1–5 of a value ordered worst first (`order_by`): 1 + floor(5 × (rank − 1) ÷ n), ties share the lowest
   rank and so the score. #}
{% macro tie_aware_quintile(order_by) -%}
    cast(1 + floor(5.0 * (rank() over (order by {{ order_by }}) - 1) / count(*) over ()) as integer)
{%- endmacro %}
