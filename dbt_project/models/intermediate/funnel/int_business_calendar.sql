{%- set business_seconds = business_close_second() - business_open_second() -%}
-- One row per date in the business time zone, from the earliest lead or sales activity to the as-of point and a
-- day beyond, with the running counts that make business-time arithmetic two equi-joins (macros/funnel.sql):
-- business_day_number counts the business days up to and including the date, business_seconds_before the business
-- seconds of every earlier date. Business time between two moments = the difference of their running totals.
-- Business days: closedloop__business_days (ISO weekdays); hours: closedloop__business_hours_start/_end.
with

leads as (

    select created_at from {{ ref('int_leads_scored') }}

),

activities as (

    select occurred_at from {{ ref('stg_crm__activities') }}
    where {{ not_quarantined('activities', 'activity_id') }}

),

as_of as (

    select as_of_at from {{ ref('int_funnel_as_of') }}

),

moments as (

    select min(created_at) as first_at, max(created_at) as last_at from leads
    union all
    select min(occurred_at), max(occurred_at) from activities
    union all
    select as_of_at, as_of_at from as_of

),

bounds as (

    select
        cast({{ to_business_time('min(first_at)') }} as date) as first_date,
        cast({{ to_business_time('max(last_at)') }} as date) as last_date
    from moments

),

digits as (

    select digit from (values (0), (1), (2), (3), (4), (5), (6), (7), (8), (9)) as digits (digit)

),

-- up to 100,000 days (273 years): more than any CRM history
day_offsets as (

    select ones.digit + 10 * tens.digit + 100 * hundreds.digit + 1000 * thousands.digit
        + 10000 * ten_thousands.digit as day_offset
    from digits as ones
    cross join digits as tens
    cross join digits as hundreds
    cross join digits as thousands
    cross join digits as ten_thousands

),

days as (

    select cast({{ dbt.dateadd('day', 'day_offsets.day_offset', 'bounds.first_date') }} as date) as calendar_date
    from day_offsets
    cross join bounds
    where day_offsets.day_offset <= {{ dbt.datediff('bounds.first_date', 'bounds.last_date', 'day') }} + 1

),

flagged as (

    select
        calendar_date,
        {{ iso_day_of_week('calendar_date') }} as iso_day_of_week,
        {{ iso_day_of_week('calendar_date') }} in ({{ business_days() | join(', ') }}) as is_business_day
    from days

),

final as (

    select
        calendar_date,
        iso_day_of_week,
        is_business_day,
        cast(sum(case when is_business_day then 1 else 0 end) over (
            order by calendar_date rows between unbounded preceding and current row
        ) as integer) as business_day_number,
        cast(coalesce(sum(case when is_business_day then {{ business_seconds }} else 0 end) over (
            order by calendar_date rows between unbounded preceding and 1 preceding
        ), 0) as bigint) as business_seconds_before
    from flagged

)

select * from final
