{# Sums money as a decimal and returns a double: a sum of doubles depends on the order rows arrive in, which a
   parallel engine does not fix, so two runs over the same data could publish different last digits. Values
   beyond the decimal's range (or inf, nan: dirty input the gate reports) are summed as doubles on the side, so
   they show in the total instead of failing the cast. Sum first, round last: each value is cast to 12 decimals and
   only the total is rounded to 6, so fractional shares add up exactly to their conversions. The 12: a double holds
   noise past its 15th-17th digit (1.1 is 1.100000000000000088…), which the cast leaves out on every engine (DuckDB
   scales and rounds, PostgreSQL keeps 15 digits, Spark the shortest decimal), so a total that falls on a half
   (…0.0000005) rounds alike everywhere. Casting to 18 decimals and rounding to 12 kept DuckDB's noise there and
   cost 25 times as much (docs/benchmarks.md). #}
{% macro exact_sum(expr) -%}
    case when count({{ expr }}) > 0 then
        {{ exact_sum_total(exact_sum_decimal(expr), exact_sum_overflow(expr)) }}
    end
{%- endmacro %}

{# exact_sum in two steps, for a sum over partial sums (the same digits as one exact_sum over the rows): first
   exact_sum_decimal and exact_sum_overflow of the rows, grouped finely; then exact_sum_total of sums of those. #}
{% macro exact_sum_decimal(expr) -%}
    sum(case when abs({{ expr }}) < 1e20 then cast({{ expr }} as numeric(38, 12)) end)
{%- endmacro %}

{% macro exact_sum_overflow(expr) -%}
    sum(case when not (abs({{ expr }}) < 1e20) then cast({{ expr }} as {{ type_double() }}) end)
{%- endmacro %}

{% macro exact_sum_total(decimal_sum, overflow_sum) -%}
    coalesce(cast(round({{ decimal_sum }}, 6) as {{ type_double() }}), 0) + coalesce({{ overflow_sum }}, 0)
{%- endmacro %}
