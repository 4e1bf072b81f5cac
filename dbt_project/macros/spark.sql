{#- What Spark (Parquet tables through dbt-spark, docs/engines.md) does differently. Parquet tables take inserts
    and overwrites but no delete, so the incremental models are rebuilt whole there, and the deletes that keep an
    incremental table equal to a rebuild have nothing to do. -#}

{# `incremental`, or `table` on Spark. #}
{% macro incremental_where_supported() -%}
    {{ return('table' if target.type == 'spark' else 'incremental') }}
{%- endmacro %}

{# The statements of `sql` (separated by `;`) as one hook. Spark's Thrift server runs one statement per call, so
   there they run here, one by one, and the hook itself is a no-op. #}
{% macro hook_statements(sql) -%}
    {%- if target.type != 'spark' -%}
        {{ return(sql) }}
    {%- endif -%}
    {%- if execute -%}
        {%- for statement in sql.split(';') if statement.strip() -%}
            {%- do run_query(statement) -%}
        {%- endfor -%}
    {%- endif -%}
    {{ return('select 1') }}
{%- endmacro %}

{# The values of `expr` joined by `separator` (a SQL string literal) in the order of `order_column`. Spark's
   aggregate has no `within group (order by …)`: there the pairs are collected, sorted and joined. #}
{% macro ordered_listagg(expr, separator, order_column) -%}
    {{ return(adapter.dispatch('ordered_listagg', 'closedloop')(expr, separator, order_column)) }}
{%- endmacro %}
{% macro default__ordered_listagg(expr, separator, order_column) -%}
    {{ dbt.listagg(expr, separator, 'order by ' ~ order_column) }}
{%- endmacro %}
{% macro spark__ordered_listagg(expr, separator, order_column) -%}
    array_join(transform(array_sort(collect_list(struct({{ order_column }} as sort_key, {{ expr }} as value))), pair -> pair.value), {{ separator }})
{%- endmacro %}

{# dbt-spark's split_part indexes the array directly, which Spark's ANSI mode turns into an error when the part
   does not exist; the other engines give null (or ''), and so does this. #}
{% macro spark__split_part(string_text, delimiter_text, part_number) -%}
    get(split({{ string_text }}, concat('\\Q', {{ delimiter_text }}, '\\E')), {{ part_number - 1 }})
{%- endmacro %}

{# dbt-spark's dateadd goes through unix seconds and a text cast that Spark refuses when `timestamp` is
   TIMESTAMP_NTZ (the profile's session, docs/engines.md); Spark's own timestampadd does the same arithmetic. #}
{% macro spark__dateadd(datepart, interval, from_date_or_timestamp) -%}
    timestampadd({{ datepart }}, {{ interval }}, {{ from_date_or_timestamp }})
{%- endmacro %}
