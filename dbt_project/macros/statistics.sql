{#- PostgreSQL plans a query from its tables' statistics, and a table built a moment ago has none until autovacuum
    gets to it: the next model is then planned blind (at 100 k leads int_leads_scored took 392 s instead of 13 s).
    So on PostgreSQL every table a model, seed or snapshot builds is analysed before it ends (the project's
    post-hook in dbt_project.yml).
    DuckDB and Spark keep no statistics to refresh. -#}
{% macro analyze_after_build() -%}
    {{ return(adapter.dispatch('analyze_after_build', 'closedloop')()) }}
{%- endmacro %}

{% macro default__analyze_after_build() -%}{%- endmacro %}

{% macro postgres__analyze_after_build() -%}
    {%- if config.get('materialized') not in ('view', 'ephemeral') -%}analyze {{ this }}{%- endif -%}
{%- endmacro %}
