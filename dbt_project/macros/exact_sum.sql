{# Sums money as a decimal and returns a double: a sum of doubles depends on the order rows arrive in, which a
   parallel engine does not fix, so two runs over the same data could publish different last digits. Values
   beyond the decimal's range (or inf, nan: dirty input the gate reports) are summed as doubles on the side, so
   they show in the total instead of failing the cast. #}
{% macro exact_sum(expr) -%}
    case when count({{ expr }}) > 0 then
        coalesce(cast(sum(case when abs({{ expr }}) < 1e20 then cast({{ expr }} as numeric(28, 6)) end) as float8), 0)
        + coalesce(sum(case when not (abs({{ expr }}) < 1e20) then cast({{ expr }} as float8) end), 0)
    end
{%- endmacro %}
