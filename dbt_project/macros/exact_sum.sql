{# Sums money as a decimal and returns a double: a sum of doubles depends on the order rows arrive in, which a
   parallel engine does not fix, so two runs over the same data could publish different last digits. #}
{% macro exact_sum(expr) -%}
    cast(sum(cast({{ expr }} as numeric(28, 6))) as float8)
{%- endmacro %}
