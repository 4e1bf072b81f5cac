{#- Funnel and speed-to-lead helpers (docs/metrics.md *Funnel and speed-to-lead*): settings read from vars, business-time arithmetic and percentiles,
    written once for every engine (dispatched where the engines differ). -#}

{# A whole-number setting; a var that is not a whole number fails the compile instead of reaching the SQL. #}
{% macro int_setting(name) -%}
    {%- set value = var(name) | string | trim -%}
    {%- if not (value | replace('-', '', 1)).isdigit() -%}
        {{ exceptions.raise_compiler_error("var " ~ name ~ " must be a whole number, got: " ~ value) }}
    {%- endif -%}
    {{ return(value | int) }}
{%- endmacro %}

{# A local clock time setting (HH:MM) as seconds after midnight. #}
{% macro clock_setting(name) -%}
    {%- set value = var(name) | string | trim -%}
    {%- set parts = value.split(':') -%}
    {%- if parts | length != 2 or not parts[0].isdigit() or not parts[1].isdigit()
        or parts[0] | int > 24 or parts[1] | int > 59 or (parts[0] | int) * 60 + (parts[1] | int) > 1440 -%}
        {{ exceptions.raise_compiler_error("var " ~ name ~ " must be a time HH:MM, got: " ~ value) }}
    {%- endif -%}
    {{ return((parts[0] | int) * 3600 + (parts[1] | int) * 60) }}
{%- endmacro %}

{# Opening and closing time of a business day, seconds after local midnight. #}
{% macro business_open_second() -%}
    {{ return(clock_setting('closedloop__business_hours_start')) }}
{%- endmacro %}
{% macro business_close_second() -%}
    {%- set open, close = clock_setting('closedloop__business_hours_start'), clock_setting('closedloop__business_hours_end') -%}
    {%- if close <= open -%}
        {{ exceptions.raise_compiler_error("closedloop__business_hours_end must be after closedloop__business_hours_start") }}
    {%- endif -%}
    {{ return(close) }}
{%- endmacro %}

{# The business weekdays, ISO numbers (1 = Monday ... 7 = Sunday), from a comma-separated var. #}
{% macro business_days() -%}
    {%- set days = [] -%}
    {%- for part in (var('closedloop__business_days') | string).split(',') if part | trim -%}
        {%- if not (part | trim).isdigit() or (part | trim | int) < 1 or (part | trim | int) > 7 -%}
            {{ exceptions.raise_compiler_error("closedloop__business_days: ISO weekdays 1-7, got: " ~ part) }}
        {%- endif -%}
        {%- do days.append(part | trim | int) -%}
    {%- endfor -%}
    {{ return(days if days else [0]) }}
{%- endmacro %}

{# The business time zone (IANA name), checked so that it can be quoted safely. #}
{% macro business_timezone() -%}
    {%- set zone = var('closedloop__business_timezone') | string | trim -%}
    {%- if not modules.re.match('^[A-Za-z0-9_+/-]+$', zone) -%}
        {{ exceptions.raise_compiler_error("closedloop__business_timezone is not a time zone name: " ~ zone) }}
    {%- endif -%}
    {{ return(zone) }}
{%- endmacro %}

{# A UTC timestamp (without time zone) as the wall-clock time in the business time zone (DST included). #}
{% macro to_business_time(expr) -%}
    {%- set zone = business_timezone() -%}
    {%- if zone | upper == 'UTC' -%}
        {{ expr }}
    {%- else -%}
        {{ return(adapter.dispatch('to_business_time', 'closedloop')(expr, zone)) }}
    {%- endif -%}
{%- endmacro %}
{# DuckDB (ICU) and Postgres: a naive value at time zone UTC is an instant; that instant at time zone Z is Z's clock. #}
{% macro default__to_business_time(expr, zone) -%}
    (({{ expr }}) at time zone 'UTC') at time zone '{{ zone }}'
{%- endmacro %}
{% macro spark__to_business_time(expr, zone) -%}
    from_utc_timestamp({{ expr }}, '{{ zone }}')
{%- endmacro %}

{# Seconds after midnight of a timestamp, whole seconds (Postgres' extract keeps the fraction, DuckDB's does not). #}
{% macro second_of_day(expr) -%}
    cast(extract(hour from {{ expr }}) * 3600 + extract(minute from {{ expr }}) * 60
        + floor(extract(second from {{ expr }})) as integer)
{%- endmacro %}

{# ISO day of the week, 1 = Monday ... 7 = Sunday. #}
{% macro iso_day_of_week(expr) -%}
    {{ return(adapter.dispatch('iso_day_of_week', 'closedloop')(expr)) }}
{%- endmacro %}
{% macro default__iso_day_of_week(expr) -%}
    cast(extract(isodow from {{ expr }}) as integer)
{%- endmacro %}
{% macro spark__iso_day_of_week(expr) -%}
    (pmod(dayofweek({{ expr }}) + 5, 7) + 1)
{%- endmacro %}

{# An interval of whole days, for window frames (`range between <interval> preceding`). #}
{% macro days_interval(days) -%}
    {{ return(adapter.dispatch('days_interval', 'closedloop')(days)) }}
{%- endmacro %}
{% macro default__days_interval(days) -%}
    interval '{{ days | int }} days'
{%- endmacro %}
{% macro spark__days_interval(days) -%}
    interval {{ days | int }} days
{%- endmacro %}

{# The continuous percentile (linear interpolation) of `expr` within a group: fraction 0.5 is the median. #}
{% macro percentile(expr, fraction) -%}
    {{ return(adapter.dispatch('percentile', 'closedloop')(expr, fraction)) }}
{%- endmacro %}
{% macro default__percentile(expr, fraction) -%}
    quantile_cont({{ expr }}, {{ fraction }})
{%- endmacro %}
{% macro postgres__percentile(expr, fraction) -%}
    percentile_cont({{ fraction }}) within group (order by {{ expr }})
{%- endmacro %}
{% macro spark__percentile(expr, fraction) -%}
    percentile({{ expr }}, {{ fraction }})
{%- endmacro %}

{#- Business time of a timestamp already in business time (`local`), against the int_business_calendar row of its
    date (`calendar`): -#}
{# seconds of business time from the start of the calendar to `local` (differences give business time between two). #}
{% macro business_seconds_through(local, calendar) -%}
    ({{ calendar }}.business_seconds_before + case when {{ calendar }}.is_business_day then
        least(greatest({{ second_of_day(local) }} - {{ business_open_second() }}, 0),
              {{ business_close_second() - business_open_second() }})
        else 0 end)
{%- endmacro %}
{# the number of the business day on which something that happens at `local` is handled: that day when it is a
   business day and `local` is before its close (`at_close_counts`: or exactly at it), otherwise the next one #}
{% macro business_day_due(local, calendar, at_close_counts=false) -%}
    ({{ calendar }}.business_day_number + case
        when {{ calendar }}.is_business_day
            and {{ second_of_day(local) }} {{ '<=' if at_close_counts else '<' }} {{ business_close_second() }} then 0
        else 1 end)
{%- endmacro %}
