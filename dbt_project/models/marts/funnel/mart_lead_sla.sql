{%- set high_seconds = int_setting('closedloop__sla_high_intent_business_minutes') * 60 -%}
{%- set min_attempts = int_setting('closedloop__sla_min_attempts') -%}
{%- set attempts_hours = int_setting('closedloop__sla_attempts_window_hours') -%}
{%- set recycle_days = int_setting('closedloop__recycle_after_days') -%}
-- One row per lead: speed-to-lead against the SLAs of docs/metrics.md *Funnel and speed-to-lead*, in business time
-- (int_business_calendar).
--   first response: high intent within closedloop__sla_high_intent_business_minutes (60) business minutes, medium
--     intent by the close of the business day it arrived on (the next business day when it came outside hours),
--     low intent no target;
--   attempts: at least closedloop__sla_min_attempts (3) activities within closedloop__sla_attempts_window_hours (48)
--     clock hours of creation, unless a connection (outcome connected, replied or scheduled) came within them;
--   recycling: no connection and no deal within closedloop__recycle_after_days (14) days of creation.
-- Deadlines after the as-of point (int_funnel_as_of) are pending. A lead still in `preparation` (not ready for
-- handoff, int_leads_scored) is marketing's: sla_owner marketing and every SLA status not_applicable, so it never
-- counts as a sales miss.
with

leads as (

    select
        lead_id, person_id, is_merged_duplicate, created_at, owner, source_channel, source_campaign, intent_tier,
        handoff_readiness
    from {{ ref('int_leads_scored') }}

),

activities as (

    select activity_id, lead_id, occurred_at, outcome from {{ ref('stg_crm__activities') }}
    where {{ not_quarantined('activities', 'activity_id') }} and occurred_at is not null

),

deals as (

    select lead_id, created_at from {{ ref('int_deals_valued') }}

),

calendar as (

    select calendar_date, is_business_day, business_day_number, business_seconds_before
    from {{ ref('int_business_calendar') }}

),

as_of as (

    select as_of_at from {{ ref('int_funnel_as_of') }}

),

lead_activities as (

    select
        leads.lead_id,
        count(*) as activity_count,
        min(activities.occurred_at) as first_activity_at,
        sum(case
            when activities.occurred_at <= {{ dbt.dateadd('hour', attempts_hours, 'leads.created_at') }}
                then 1
            else 0
        end) as attempts_in_window,
        sum(case
            when activities.occurred_at <= {{ dbt.dateadd('day', recycle_days, 'leads.created_at') }}
                then 1
            else 0
        end) as attempts_before_recycle,
        min(case when activities.outcome in ('connected', 'replied', 'scheduled') then activities.occurred_at end)
            as first_connected_at
    from leads
    inner join activities on leads.lead_id = activities.lead_id
    group by leads.lead_id

),

lead_deals as (

    select lead_id, min(created_at) as first_deal_at from deals
    group by lead_id

),

timed as (

    select
        leads.*,
        coalesce(lead_activities.activity_count, 0) as activity_count,
        lead_activities.first_activity_at,
        coalesce(lead_activities.attempts_in_window, 0) as attempts_in_window,
        coalesce(lead_activities.attempts_before_recycle, 0) as attempts_before_recycle,
        lead_activities.first_connected_at,
        lead_deals.first_deal_at,
        as_of.as_of_at,
        {{ dbt.dateadd('hour', attempts_hours, 'leads.created_at') }} as attempts_due_at,
        {{ dbt.dateadd('day', recycle_days, 'leads.created_at') }} as recycle_due_at,
        {{ to_business_time('leads.created_at') }} as created_local,
        {{ to_business_time('lead_activities.first_activity_at') }} as first_activity_local,
        {{ to_business_time('as_of.as_of_at') }} as as_of_local
    from leads
    left join lead_activities on leads.lead_id = lead_activities.lead_id
    left join lead_deals on leads.lead_id = lead_deals.lead_id
    cross join as_of

),

-- each moment against the calendar row of its local date
business_timed as (

    select
        timed.*,
        {{ business_seconds_through('timed.created_local', 'created_day') }} as created_business_second,
        {{ business_day_due('timed.created_local', 'created_day') }} as due_business_day,
        {{ business_seconds_through('timed.first_activity_local', 'activity_day') }} as first_activity_business_second,
        {{ business_day_due('timed.first_activity_local', 'activity_day', at_close_counts=true) }}
            as first_activity_business_day,
        {{ business_seconds_through('timed.as_of_local', 'as_of_day') }} as as_of_business_second,
        {{ business_day_due('timed.as_of_local', 'as_of_day', at_close_counts=true) }} as as_of_business_day
    from timed
    left join calendar as created_day on created_day.calendar_date = cast(timed.created_local as date)
    left join calendar as activity_day on activity_day.calendar_date = cast(timed.first_activity_local as date)
    left join calendar as as_of_day on as_of_day.calendar_date = cast(timed.as_of_local as date)

),

measured as (

    select
        business_timed.*,
        -- an activity logged before the lead's creation answered it at once
        greatest(business_timed.first_activity_business_second - business_timed.created_business_second, 0)
            as business_seconds_to_first_activity,
        case business_timed.intent_tier
            when 'high' then 'within_business_hour'
            when 'medium' then 'same_business_day'
            else 'none'
        end as first_response_target,
        (
            business_timed.first_connected_at is not null
            and business_timed.first_connected_at <= business_timed.recycle_due_at
        )
        or (
            business_timed.first_deal_at is not null and business_timed.first_deal_at <= business_timed.recycle_due_at
        ) as is_handled_before_recycle
    from business_timed

),

judged as (

    select
        measured.*,
        case
            when measured.first_response_target = 'none' then 'no_target'
            when measured.first_response_target = 'within_business_hour'
                then case
                    when
                        measured.first_activity_at is not null
                        and measured.business_seconds_to_first_activity <= {{ high_seconds }}
                        then 'met'
                    when measured.first_activity_at is not null then 'missed'
                    when
                        measured.as_of_business_second - measured.created_business_second > {{ high_seconds }}
                        then 'missed'
                    else 'pending'
                end
            when
                measured.first_activity_at is not null
                and measured.first_activity_business_day <= measured.due_business_day
                then 'met'
            when measured.first_activity_at is not null then 'missed'
            when measured.as_of_business_day > measured.due_business_day then 'missed'
            else 'pending'
        end as first_response_status,
        case
            when measured.attempts_in_window >= {{ min_attempts }} then 'met'
            when
                measured.first_connected_at is not null and measured.first_connected_at <= measured.attempts_due_at
                then 'met'
            when measured.as_of_at > measured.attempts_due_at then 'missed'
            else 'pending'
        end as attempts_status,
        (not measured.is_handled_before_recycle and measured.as_of_at >= measured.recycle_due_at) as is_recycled,
        coalesce(handoff_readiness = 'preparation', false) as is_marketing_owned
    from measured

),

final as (

    select
        lead_id,
        person_id,
        is_merged_duplicate,
        created_at,
        owner,
        source_channel,
        source_campaign,
        intent_tier,
        handoff_readiness,
        first_activity_at,
        cast(
            case
                when
                    first_activity_at is not null
                    then cast(business_seconds_to_first_activity as {{ type_double() }}) / 60.0
            end as {{ type_double() }}
        )
            as business_minutes_to_first_activity,
        first_response_target,
        case when is_marketing_owned then 'not_applicable' else first_response_status end as first_response_status,
        cast(activity_count as bigint) as activity_count,
        cast(attempts_in_window as bigint) as attempts_in_window,
        first_connected_at,
        case when is_marketing_owned then 'not_applicable' else attempts_status end as attempts_status,
        case when is_marketing_owned then 'marketing' else 'sales' end as sla_owner,
        case
            when is_marketing_owned then 'not_applicable'
            when first_response_status = 'missed' or attempts_status = 'missed' then 'missed'
            when first_response_status = 'pending' or attempts_status = 'pending' then 'pending'
            else 'met'
        end as sla_status,
        recycle_due_at,
        coalesce(is_recycled, false) as is_recycled,
        case when is_recycled then case
            when attempts_before_recycle = 0 then 'never_followed_up'
            when attempts_before_recycle < {{ min_attempts }} then 'too_few_attempts'
            else 'no_connection'
        end end as recycle_reason
    from judged

)

select * from final
