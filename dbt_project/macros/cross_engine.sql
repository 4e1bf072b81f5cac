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
{% macro spark__regex_match(expr, pattern) -%}
    ({{ expr }} rlike {{ pattern }})
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

{#- Text -> typed values. Every engine first checks the text against the same grammar, so a value reads the same
    way (or is null) everywhere, whatever the engine's own casts would tolerate; and on Postgres, where a cast
    raises instead of giving null, the check also keeps one bad value from failing the build. [0-9], not \d:
    a Postgres \d can match non-ASCII digits that the cast then refuses. -#}

{# ISO-8601 date, or date and time with an optional offset (Z, +hh, +hhmm, +hh:mm); 24:00 is the next midnight. #}
{% macro iso_timestamp_pattern() -%}
    '^([1-9][0-9]{3}|0[1-9][0-9]{2}|00[1-9][0-9]|000[1-9])-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])([T ](([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9]([.][0-9]+)?)?|24:00(:00([.]0+)?)?)(Z|[+-](0[0-9]|1[0-5])(:?[0-5][0-9])?)?)?$'
{%- endmacro %}

{# A decimal with an optional exponent of up to 3 digits: no thousands separators, currency signs, nan or inf. #}
{% macro number_pattern() -%}
    '^[-+]?([0-9]+[.]?[0-9]*|[.][0-9]+)([eE][-+]?[0-9]{1,3})?$'
{%- endmacro %}

{# ISO-8601 text to a UTC timestamp without time zone: offsets converted, naive values read as UTC,
   anything else (or a day that does not exist) becomes null (the quality gate reports it). #}
{% macro to_utc_timestamp(expr) -%}
    {{ return(adapter.dispatch('to_utc_timestamp', 'closedloop')(expr)) }}
{%- endmacro %}
{% macro default__to_utc_timestamp(expr) -%}
    {# the duckdb profile sets TimeZone=UTC, so naive text is read as UTC #}
    case when {{ regex_match('trim(' ~ expr ~ ')', iso_timestamp_pattern()) }}
        then cast(try_cast(trim({{ expr }}) as timestamptz) as timestamp)
    end
{%- endmacro %}
{% macro postgres__to_utc_timestamp(expr) -%}
    {%- set text = 'trim(' ~ expr ~ ')' -%}
    case when {{ closedloop.postgres__is_iso_timestamp(text) }} then
        case when {{ text }} ~ ':[0-9]{2}([.][0-9]+)?(Z|[+-][0-9]{2}(:?[0-9]{2})?)$'
            then cast({{ closedloop.postgres__micros(text) }} as timestamptz) at time zone 'UTC'
            {# naive text is UTC whatever the session time zone #}
            else cast({{ closedloop.postgres__micros(text) }} as timestamp)
        end
    end
{%- endmacro %}

{# Spark reads every offset form itself; only 24:00 (the next midnight) it refuses, so that is read as 00:00 and a
   day added. The profile's session is UTC with TIMESTAMP_NTZ as `timestamp`, like DuckDB's. #}
{% macro spark__to_utc_timestamp(expr) -%}
    {%- set text = 'trim(' ~ expr ~ ')' -%}
    case when {{ text }} rlike {{ iso_timestamp_pattern() }} then
        case when {{ text }} rlike '^.{10}[T ]24:00'
            then cast(try_cast(regexp_replace({{ text }}, '24:00(:00([.]0+)?)?', '00:00') as timestamp_ltz) as timestamp)
                + interval 1 day
            else cast(try_cast({{ text }} as timestamp_ltz) as timestamp)
        end
    end
{%- endmacro %}

{# Nested cases: Postgres may evaluate the operands of `and` in any order, and the day check casts substrings. #}
{% macro postgres__is_iso_timestamp(text) -%}
    case when {{ text }} ~ {{ iso_timestamp_pattern() }}
        then {{ closedloop.postgres__is_calendar_day(
            'cast(substring(' ~ text ~ ' from 1 for 4) as integer)',
            'cast(substring(' ~ text ~ ' from 6 for 2) as integer)',
            'cast(substring(' ~ text ~ ' from 9 for 2) as integer)') }}
        else false
    end
{%- endmacro %}

{# No 30 February: DuckDB's try_cast gives null there, Postgres' cast an error. #}
{% macro postgres__is_calendar_day(year, month, day) -%}
    ({{ day }} <= case
        when {{ month }} in (4, 6, 9, 11) then 30
        when {{ month }} <> 2 then 31
        when {{ year }} % 4 = 0 and ({{ year }} % 100 <> 0 or {{ year }} % 400 = 0) then 29
        else 28
    end)
{%- endmacro %}

{# DuckDB keeps microseconds and drops further digits; Postgres would round them. #}
{% macro postgres__micros(text) -%}
    regexp_replace({{ text }}, '([.][0-9]{6})[0-9]+', '\1')
{%- endmacro %}

{% macro to_number(expr) -%}
    {{ return(adapter.dispatch('to_number', 'closedloop')(expr)) }}
{%- endmacro %}
{% macro default__to_number(expr) -%}
    case when {{ regex_match('trim(' ~ expr ~ ')', number_pattern()) }} then try_cast(trim({{ expr }}) as double) end
{%- endmacro %}
{# Beyond the double range DuckDB gives +-inf (or 0) where Postgres raises, so the magnitude is checked as numeric. #}
{% macro postgres__to_number(expr) -%}
    {%- set text = 'trim(' ~ expr ~ ')' -%}
    {%- set sign = "case when " ~ text ~ " like '-%' then '-' else '' end" -%}
    case when {{ text }} ~ {{ number_pattern() }} then
        case
            when abs(cast({{ text }} as numeric)) > 1.7976931348623157e308
                then cast({{ sign }} || 'Infinity' as double precision)
            when abs(cast({{ text }} as numeric)) < 2.4703282292062328e-324
                then cast({{ sign }} || '0' as double precision)
            else cast({{ text }} as double precision)
        end
    end
{%- endmacro %}

{# The date part of an ISO-8601 value; like a cast through timestamp, an offset is ignored (the local date). #}
{% macro to_date(expr) -%}
    {{ return(adapter.dispatch('to_date', 'closedloop')(expr)) }}
{%- endmacro %}
{% macro default__to_date(expr) -%}
    case when {{ regex_match('trim(' ~ expr ~ ')', iso_timestamp_pattern()) }}
        then cast(try_cast(trim({{ expr }}) as timestamp) as date)
    end
{%- endmacro %}
{% macro postgres__to_date(expr) -%}
    {%- set text = 'trim(' ~ expr ~ ')' -%}
    case when {{ closedloop.postgres__is_iso_timestamp(text) }}
        then cast(cast({{ closedloop.postgres__micros(text) }} as timestamp) as date)
    end
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

{# A whole number from text: null when it is not a number or does not fit a bigint (never a build error). #}
{% macro to_integer(expr) -%}
    case when abs({{ to_number(expr) }}) < 9.2e18 then cast({{ to_number(expr) }} as bigint) end
{%- endmacro %}


{# The start of this dbt invocation as a timestamp literal: incremental models compare with it. #}
{% macro run_timestamp() -%}
    cast('{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S.%f") }}' as timestamp)
{%- endmacro %}

{# a = b, where two nulls are equal (campaign columns may be null). #}
{# Always true or false, never null: `a = b or both null` is null when one side is null, and `not (...)` of that
   is null too, so a change from a value to null went unnoticed. #}
{% macro null_safe_equals(a, b) -%}
    (case when {{ a }} = {{ b }} or ({{ a }} is null and {{ b }} is null) then true else false end)
{%- endmacro %}

{# Fractional days from one timestamp to another (whole seconds). A double divided: on Spark `seconds / 86400.0`
   would be decimal division, whose result keeps only 6 decimals. #}
{% macro days_between(from_expr, to_expr) -%}
    (cast({{ dbt.datediff(from_expr, to_expr, 'second') }} as {{ type_double() }}) / 86400.0)
{%- endmacro %}

{#- A double-precision float. dbt.type_float() is single precision on DuckDB (FLOAT is FLOAT4 there), which
    would round money and break the contracts' float8 columns. -#}
{% macro type_double() -%}
    {{ return(adapter.dispatch('type_double', 'closedloop')()) }}
{%- endmacro %}

{% macro default__type_double() -%}
    double precision
{%- endmacro %}

{% macro spark__type_double() -%}
    double
{%- endmacro %}

{# A label for grouping: trimmed text, `(not set)` where it is null or blank (the report's name for it). #}
{% macro label_or_not_set(expr) -%}
    coalesce(nullif(trim({{ expr }}), ''), '(not set)')
{%- endmacro %}

{# numerator ÷ denominator as a double; null when the denominator is zero or null. #}
{% macro rate(numerator, denominator) -%}
    cast(case when {{ denominator }} > 0 then {{ numerator }} * 1.0 / {{ denominator }} end as {{ type_double() }})
{%- endmacro %}

{#- Written between a CTE's name and its body (`touches as {{ not_materialized() }} (`): read the CTE where it is
    used instead of copying it once. DuckDB and PostgreSQL copy a CTE used more than once into a temporary result;
    for a narrow projection of a big table each use filters, that copy costs more than reading the columns again
    (int_conversion_touches at 1 M leads: 16.2 s -> 8.3 s, docs/benchmarks.md). Spark always inlines CTEs. #}
{% macro not_materialized() -%}
    {{ return(adapter.dispatch('not_materialized', 'closedloop')()) }}
{%- endmacro %}

{% macro default__not_materialized() -%}
    not materialized
{%- endmacro %}

{% macro spark__not_materialized() -%}
{%- endmacro %}
