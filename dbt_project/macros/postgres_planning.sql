{#- How PostgreSQL plans the models (docs/engines.md *Planning on PostgreSQL*). DuckDB and Spark need neither.

    Statistics: PostgreSQL plans a query from its tables' statistics, and a table built a moment ago has none until
    autovacuum gets to it: the next model is then planned blind (at 100 k leads int_leads_scored took 392 s instead
    of 13 s). So every table a model, seed or snapshot builds is analysed before it ends (the post-hook).

    No nested loops: the row counts of a group-by over a CTE are guessed (200 rows), so a join of two such results
    over 128 k conversions was planned as a nested loop, 16 billion comparisons. Every model joins whole tables,
    where hash and merge joins are right, so the pre-hook turns nested loops off for the model's session; a join
    that has no equality to hash on (a range join) still gets one. -#}
{% macro analyze_after_build() -%}
    {{ return(adapter.dispatch('analyze_after_build', 'closedloop')()) }}
{%- endmacro %}

{% macro default__analyze_after_build() -%}{%- endmacro %}

{% macro postgres__analyze_after_build() -%}
    {%- if config.get('materialized') not in ('view', 'ephemeral') -%}analyze {{ this }}{%- endif -%}
{%- endmacro %}

{% macro planner_settings() -%}
    {{ return(adapter.dispatch('planner_settings', 'closedloop')()) }}
{%- endmacro %}

{% macro default__planner_settings() -%}{%- endmacro %}

{% macro postgres__planner_settings() -%}
    set enable_nestloop = off
{%- endmacro %}
