{#- Small engine-neutral helpers, dispatched per adapter. default__ covers DuckDB and Spark SQL. -#}

{% macro regex_match(expr, pattern) -%}
    {{ return(adapter.dispatch('regex_match', 'closedloop')(expr, pattern)) }}
{%- endmacro %}
{% macro default__regex_match(expr, pattern) -%}
    regexp_matches({{ expr }}, {{ pattern }})
{%- endmacro %}
{% macro postgres__regex_match(expr, pattern) -%}
    ({{ expr }} ~ {{ pattern }})
{%- endmacro %}

{# The first capture group of `pattern` in `expr`, null when it does not match. #}
{% macro regex_extract(expr, pattern) -%}
    {{ return(adapter.dispatch('regex_extract', 'closedloop')(expr, pattern)) }}
{%- endmacro %}
{% macro default__regex_extract(expr, pattern) -%}
    nullif(regexp_extract({{ expr }}, {{ pattern }}, 1), '')
{%- endmacro %}
{% macro postgres__regex_extract(expr, pattern) -%}
    nullif(substring({{ expr }} from {{ pattern }}), '')
{%- endmacro %}

{# ISO-8601 text to a UTC timestamp without time zone: offsets converted, naive values read as UTC,
   anything unparseable becomes null (the quality gate reports it). #}
{% macro to_utc_timestamp(expr) -%}
    {{ return(adapter.dispatch('to_utc_timestamp', 'closedloop')(expr)) }}
{%- endmacro %}
{% macro default__to_utc_timestamp(expr) -%}
    {# the duckdb profile sets TimeZone=UTC, so naive text is read as UTC #}
    cast(try_cast(trim({{ expr }}) as timestamptz) as timestamp)
{%- endmacro %}
{% macro postgres__to_utc_timestamp(expr) -%}
    case
        when trim({{ expr }}) ~ '^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?\s*(Z|z|[+-]\d{2}(:?\d{2})?)$'
            then cast(trim({{ expr }}) as timestamptz) at time zone 'UTC'
        when trim({{ expr }}) ~ '^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?$'
            then cast(trim({{ expr }}) as timestamp)
    end
{%- endmacro %}

{% macro to_number(expr) -%}
    {{ return(adapter.dispatch('to_number', 'closedloop')(expr)) }}
{%- endmacro %}
{% macro default__to_number(expr) -%}
    try_cast(trim({{ expr }}) as double)
{%- endmacro %}
{% macro postgres__to_number(expr) -%}
    case when trim({{ expr }}) ~ '^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$'
        then cast(trim({{ expr }}) as double precision) end
{%- endmacro %}

{% macro to_date(expr) -%}
    {{ return(adapter.dispatch('to_date', 'closedloop')(expr)) }}
{%- endmacro %}
{% macro default__to_date(expr) -%}
    cast(try_cast(trim({{ expr }}) as timestamp) as date)
{%- endmacro %}
{% macro postgres__to_date(expr) -%}
    case when trim({{ expr }}) ~ '^\d{4}-\d{2}-\d{2}([T ].*)?$' then cast(substring(trim({{ expr }}) from 1 for 10) as date) end
{%- endmacro %}

{% macro to_boolean(expr) -%}
    case
        when lower(trim({{ expr }})) in ('true', 't', 'yes', 'y', '1') then true
        when lower(trim({{ expr }})) in ('false', 'f', 'no', 'n', '0') then false
    end
{%- endmacro %}

{# Lowercased, trimmed text; empty becomes null. #}
{% macro clean_text(expr) -%}
    nullif(lower(trim({{ expr }})), '')
{%- endmacro %}

{# A stable text key from several columns (nulls and empty strings kept apart). #}
{% macro surrogate_key(columns) -%}
    {%- set parts = [] -%}
    {%- for column in columns -%}
        {%- do parts.append("coalesce(cast(" ~ column ~ " as " ~ dbt.type_string() ~ "), '~null~')") -%}
        {%- if not loop.last %}{% do parts.append("'|'") %}{% endif -%}
    {%- endfor -%}
    {{ dbt.hash(dbt.concat(parts)) }}
{%- endmacro %}
