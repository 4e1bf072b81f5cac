{{
    config(
        materialized=incremental_where_supported(),
        unique_key='conversion_id',
        incremental_strategy='delete+insert',
        on_schema_change='sync_all_columns',
        post_hook="{{ delete_vanished_conversions() }}",
    )
}}
-- One row per conversion × path touch (docs/attribution.md): the person's touches within the lookback before the
-- conversion, ordered by time then touchpoint id, with the milestones and the share of every heuristic model. A
-- conversion without a touch gets one synthetic direct touch at conversion time (touchpoint_id null), so totals
-- reconcile. Incremental: a run rebuilds only the conversions whose path can have changed — new or changed conversions,
-- conversions of people who got a touch (new, re-delivered, or moved to them by a merge) within the lookback,
-- conversions that lost a touch (moved away, quarantined), and every conversion when the lookback or half-life changed.
{%- set incremental = is_incremental_with('built_at') %}
with

all_conversions as (

    select
        conversion_id,
        conversion_type,
        person_id,
        lead_id,
        deal_id,
        converted_at,
        value,
        person_first_lead_at,
        deal_created_at,
        {{ lookback_days('conversion_type') }} as lookback_days
    from {{ ref('int_conversions') }}

),

touch_people as {{ not_materialized() }} (

    select touchpoint_id, person_id, occurred_at, person_since, touch_loaded_at from {{ ref('int_touchpoint_people') }}

),

touches as (

    select touchpoint_id, channel, utm_source, utm_medium, utm_campaign from {{ ref('int_touchpoints_classified') }}

),
{% if incremental %}
previous as {{ not_materialized() }} (

    select * from {{ this }}

),

last_build as (

    select max(built_at) as built_at from previous

),

-- touches that are new to their person: just loaded (new or re-delivered), or moved by a merge
changed_touches as (

    select touchpoint_id, person_id, occurred_at
    from touch_people
    where person_since > (select built_at from last_build) or touch_loaded_at > (select built_at from last_build)

),

previous_conversions as (

    select conversion_id, person_id, lead_id, deal_id, converted_at, value, person_first_lead_at, deal_created_at,
        lookback_days, half_life_days
    from previous
    where touch_position = 1

),

dirty as (

    select all_conversions.conversion_id
    from all_conversions
    left join previous_conversions on previous_conversions.conversion_id = all_conversions.conversion_id
    where previous_conversions.conversion_id is null
        or not (
            {{ null_safe_equals('previous_conversions.person_id', 'all_conversions.person_id') }}
            and previous_conversions.converted_at = all_conversions.converted_at
            and {{ null_safe_equals('previous_conversions.value', 'all_conversions.value') }}
            and {{ null_safe_equals('previous_conversions.lead_id', 'all_conversions.lead_id') }}
            and {{ null_safe_equals('previous_conversions.deal_id', 'all_conversions.deal_id') }}
            and {{ null_safe_equals('previous_conversions.person_first_lead_at', 'all_conversions.person_first_lead_at') }}
            and {{ null_safe_equals('previous_conversions.deal_created_at', 'all_conversions.deal_created_at') }}
            and previous_conversions.lookback_days = all_conversions.lookback_days
            and previous_conversions.half_life_days = {{ var('closedloop__half_life_days') }}
        )
    union
    select all_conversions.conversion_id
    from all_conversions
    inner join changed_touches
        on changed_touches.person_id = all_conversions.person_id
        and changed_touches.occurred_at <= all_conversions.converted_at
        and changed_touches.occurred_at >= {{ dbt.dateadd('day', '-all_conversions.lookback_days', 'all_conversions.converted_at') }}
    union
    select previous.conversion_id
    from previous
    inner join changed_touches on changed_touches.touchpoint_id = previous.touchpoint_id
    union
    -- conversions whose touch is gone (quarantined later, or belongs to nobody now)
    select previous.conversion_id
    from previous
    left join touch_people on touch_people.touchpoint_id = previous.touchpoint_id
    where previous.touchpoint_id is not null and touch_people.touchpoint_id is null

),
{% endif %}
conversions as (

    select all_conversions.* from all_conversions
    {% if incremental -%}
    inner join dirty on dirty.conversion_id = all_conversions.conversion_id
    {%- endif %}

),

touches_in_lookback as (

    select
        conversions.conversion_id,
        touch_people.touchpoint_id,
        touch_people.occurred_at
    from conversions
    inner join touch_people
        on
            conversions.person_id = touch_people.person_id
            and conversions.converted_at >= touch_people.occurred_at
            and touch_people.occurred_at
            >= {{ dbt.dateadd('day', '-conversions.lookback_days', 'conversions.converted_at') }}

),

conversions_without_touches as (

    select
        conversions.conversion_id,
        cast(null as {{ dbt.type_string() }}) as touchpoint_id,
        conversions.converted_at as occurred_at
    from conversions
    left join touches_in_lookback on conversions.conversion_id = touches_in_lookback.conversion_id
    where touches_in_lookback.conversion_id is null

),

path_touches as (

    select
        touches_in_lookback.conversion_id, touches_in_lookback.touchpoint_id, touches_in_lookback.occurred_at,
        touches.channel, touches.utm_source, touches.utm_medium, touches.utm_campaign
    from touches_in_lookback
    inner join touches on touches_in_lookback.touchpoint_id = touches.touchpoint_id
    union all
    select
        conversion_id, touchpoint_id, occurred_at, 'direct' as channel,
        cast(null as {{ dbt.type_string() }}) as utm_source,
        cast(null as {{ dbt.type_string() }}) as utm_medium,
        cast(null as {{ dbt.type_string() }}) as utm_campaign
    from conversions_without_touches

),

positioned as (

    select
        path_touches.conversion_id,
        conversions.conversion_type,
        conversions.converted_at,
        path_touches.touchpoint_id,
        path_touches.occurred_at,
        path_touches.channel,
        path_touches.utm_source,
        path_touches.utm_medium,
        path_touches.utm_campaign,
        row_number() over (
            partition by path_touches.conversion_id order by path_touches.occurred_at, path_touches.touchpoint_id
        ) as touch_position,
        count(*) over (partition by path_touches.conversion_id) as path_length,
        count(*) over (partition by path_touches.conversion_id, path_touches.channel) as channel_touches,
        conversions.person_id,
        conversions.lead_id,
        conversions.deal_id,
        conversions.value,
        conversions.person_first_lead_at,
        conversions.deal_created_at,
        conversions.lookback_days,
        power(
            2.0, -{{ days_between('path_touches.occurred_at', 'conversions.converted_at') }}
            / {{ var('closedloop__half_life_days') }}
        ) as decay_weight
    from path_touches
    inner join conversions on path_touches.conversion_id = conversions.conversion_id

),

-- the milestone touches: lead creation = last at or before the person's first lead; opportunity = last at or
-- before the deal's creation; closed = the last touch of a won or lost deal's path
milestones as (

    select
        *,
        max(case when occurred_at <= person_first_lead_at then touch_position end)
            over (partition by conversion_id) as lead_position,
        case
            when conversion_type <> 'lead_created' then
                max(case when occurred_at <= deal_created_at then touch_position end) over (partition by conversion_id)
        end as opportunity_position,
        case when conversion_type in ('deal_won', 'deal_lost') then path_length end as closed_position,
        coalesce(
            max(case when channel <> 'direct' then touch_position end) over (partition by conversion_id),
            path_length
        ) as last_non_direct_position,
        -- summed in path order, so the same path always gives the same last digits
        sum(decay_weight) over (
            partition by conversion_id order by touch_position rows between unbounded preceding and unbounded following
        ) as decay_total
    from positioned

),

roles as (

    select
        *,
        {{ holds('touch_position', 1) }} + {{ holds('touch_position', 'lead_position') }}
        + {{ holds('touch_position', 'opportunity_position') }} as w_roles,
        {{ holds('touch_position', 1) }} + {{ holds('touch_position', 'lead_position') }}
        + {{ holds('touch_position', 'opportunity_position') }}
        + {{ holds('touch_position', 'closed_position') }} as full_roles,
        1 + case when lead_position is null then 0 else 1 end
        + case when opportunity_position is null then 0 else 1 end as w_roles_present
    from milestones

),

counted as (

    select
        *,
        w_roles_present + case when closed_position is null then 0 else 1 end as full_roles_present,
        sum(case when w_roles > 0 then 1 else 0 end) over (partition by conversion_id) as w_milestone_touches,
        sum(case when full_roles > 0 then 1 else 0 end) over (partition by conversion_id) as full_milestone_touches
    from roles

),

final as (

    select
        conversion_id,
        touchpoint_id,
        touch_position,
        path_length,
        channel,
        utm_source,
        utm_medium,
        utm_campaign,
        channel_touches,
        occurred_at,
        conversion_type,
        -- what the path was built from: a later run compares these to decide what to rebuild
        person_id,
        lead_id,
        deal_id,
        converted_at,
        value,
        person_first_lead_at,
        deal_created_at,
        lookback_days,
        {{ var('closedloop__half_life_days') }} as half_life_days,
        {{ run_timestamp() }} as built_at,
        case when touch_position = 1 then 1.0 else 0.0 end as share_first_touch,
        case when touch_position = path_length then 1.0 else 0.0 end as share_last_touch,
        case when touch_position = last_non_direct_position then 1.0 else 0.0 end as share_last_non_direct,
        1.0 / path_length as share_linear,
        {{ shaped_share('touch_position', 'path_length', 0.4, 0.4, 0.5) }} as share_position_based,
        decay_weight / decay_total as share_time_decay,
        {{ shaped_share('touch_position', 'path_length', 0.2, 0.6, 0.25) }} as share_j_shaped,
        {{ shaped_share('touch_position', 'path_length', 0.6, 0.2, 0.75) }} as share_inverse_j,
        case
            when conversion_type = 'lead_created'
                then {{ shaped_share('touch_position', 'path_length', 0.4, 0.4, 0.5) }}
            else {{ milestone_share('w_roles', 'w_roles_present', 'w_milestone_touches', 'path_length', 0.3) }}
        end as share_w_shaped,
        case
            when conversion_type = 'lead_created'
                then {{ shaped_share('touch_position', 'path_length', 0.4, 0.4, 0.5) }}
            -- an open opportunity has no closed touch yet: full path is W-shaped until the deal closes
            when conversion_type = 'opportunity_created'
                then {{ milestone_share('w_roles', 'w_roles_present', 'w_milestone_touches', 'path_length', 0.3) }}
            else
                {{ milestone_share(
                    'full_roles', 'full_roles_present', 'full_milestone_touches', 'path_length', 0.225
                ) }}
        end as share_full_path
    from counted

)

select * from final
