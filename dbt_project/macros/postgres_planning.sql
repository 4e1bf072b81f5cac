{#- How PostgreSQL plans the models (docs/engines.md *Planning on PostgreSQL*). DuckDB and Spark need neither.

    Statistics: PostgreSQL plans a query from its tables' statistics, and a table built a moment ago has none until
    autovacuum gets to it: the next model is then planned blind (at 100 k leads int_leads_scored took 392 s instead
    of 13 s). So every table a model, seed or snapshot builds is analysed before it ends (the post-hook).

    The same for an incremental model's new rows: dbt puts them in a temporary table, which autovacuum never
    analyses, and deletes their keys from the model's table before inserting them. Planned blind, that delete took
    more than 5 minutes for int_conversion_touches at 100 k leads; so the temporary table is analysed first (dbt's
    delete+insert, overridden for PostgreSQL below).

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

{% macro postgres__get_delete_insert_merge_sql(target, source, unique_key, dest_columns, incremental_predicates) -%}
    analyze {{ source }};
    {{ dbt.default__get_delete_insert_merge_sql(target, source, unique_key, dest_columns, incremental_predicates) }}
{%- endmacro %}
