{# Sums money as a decimal and returns a double: a sum of doubles depends on the order rows arrive in, which a
   parallel engine does not fix, so two runs over the same data could publish different last digits. Values
   beyond the decimal's range (or inf, nan: dirty input the gate reports) are summed as doubles on the side, so
   they show in the total instead of failing the cast. Sum first, round last: each value keeps 18 decimals and
   only the total is rounded to 6, so fractional shares add up exactly to their conversions. #}
{% macro exact_sum(expr) -%}
    case when count({{ expr }}) > 0 then
        coalesce(cast(round(sum(case when abs({{ expr }}) < 1e20 then cast({{ expr }} as numeric(38, 18)) end), 6) as {{ type_double() }}), 0)
        + coalesce(sum(case when not (abs({{ expr }}) < 1e20) then cast({{ expr }} as {{ type_double() }}) end), 0)
    end
{%- endmacro %}
