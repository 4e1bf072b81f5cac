{#- How PostgreSQL plans the models (docs/engines.md *Planning on PostgreSQL*). DuckDB and Spark need neither.

    Statistics: PostgreSQL plans a query from its tables' statistics, and a table built a moment ago has none until
    autovacuum gets to it: the next model is then planned blind (at 100 k leads int_leads_scored took 392 s instead
    of 13 s). So every table a model, seed or snapshot builds is analysed before it ends (the post-hook).

    No nested loops, where asked: the row count of a group-by over a CTE is a guess (200 rows), so a join of two such
    results over 128 k conversions (int_conversion_paths) was planned as a nested loop, 16 billion comparisons. A
    model that joins such results takes the pre-hook without_nested_loops: hash and merge joins for that model's
    transaction only (`set local`). Not for every model: the incremental int_conversion_touches needs its nested
    loops (60 s with them, more than 5 minutes without). -#}
{% macro analyze_after_build() -%}
    {{ return(adapter.dispatch('analyze_after_build', 'closedloop')()) }}
{%- endmacro %}

{% macro default__analyze_after_build() -%}{%- endmacro %}

{% macro postgres__analyze_after_build() -%}
    {%- if config.get('materialized') not in ('view', 'ephemeral') -%}analyze {{ this }}{%- endif -%}
{%- endmacro %}

{% macro without_nested_loops() -%}
    {{ return(adapter.dispatch('without_nested_loops', 'closedloop')()) }}
{%- endmacro %}

{% macro default__without_nested_loops() -%}{%- endmacro %}

{% macro postgres__without_nested_loops() -%}
    set local enable_nestloop = off
{%- endmacro %}
