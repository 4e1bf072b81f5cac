{# Sums money as a decimal and returns a double: a sum of doubles depends on the order rows arrive in, which a
   parallel engine does not fix, so two runs over the same data could publish different last digits. Values
   beyond the decimal's range (or inf, nan: dirty input the gate reports) are summed as doubles on the side, so
   they show in the total instead of failing the cast. Sum first, round last: each value keeps 12 decimals and
   only the total is rounded to 6, so fractional shares add up exactly to their conversions. The 12: engines cast a
   double to a decimal with different noise in the last digits (DuckDB 1.1 → 1.100000000000000128), which rounding
   each value removes, so a total that falls on a half (…0.0000005) rounds alike everywhere. #}
{% macro exact_sum(expr) -%}
    case when count({{ expr }}) > 0 then
        coalesce(cast(round(sum(case when abs({{ expr }}) < 1e20 then round(cast({{ expr }} as numeric(38, 18)), 12) end), 6) as {{ type_double() }}), 0)
        + coalesce(sum(case when not (abs({{ expr }}) < 1e20) then cast({{ expr }} as {{ type_double() }}) end), 0)
    end
{%- endmacro %}
