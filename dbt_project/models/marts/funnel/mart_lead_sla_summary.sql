-- One row per lead owner × source channel: how many leads met, missed or still wait on each SLA (mart_lead_sla).
-- Counts add up across rows (sum them for an owner or a channel); rates are per row.
with

leads as (

    select * from {{ ref('mart_lead_sla') }}

),

summarised as (

    select
        owner,
        source_channel,
        count(*) as leads,
        sum(case when first_response_target <> 'none' then 1 else 0 end) as first_response_targeted,
        sum(case when first_response_status = 'met' then 1 else 0 end) as first_response_met,
        sum(case when first_response_status = 'missed' then 1 else 0 end) as first_response_missed,
        sum(case when first_response_status = 'pending' then 1 else 0 end) as first_response_pending,
        sum(case when attempts_status = 'met' then 1 else 0 end) as attempts_met,
        sum(case when attempts_status = 'missed' then 1 else 0 end) as attempts_missed,
        sum(case when attempts_status = 'pending' then 1 else 0 end) as attempts_pending,
        sum(case when sla_status = 'met' then 1 else 0 end) as sla_met,
        sum(case when sla_status = 'missed' then 1 else 0 end) as sla_missed,
        sum(case when sla_status = 'pending' then 1 else 0 end) as sla_pending,
        sum(case when is_recycled then 1 else 0 end) as recycled,
        sum(case when first_activity_at is null then 1 else 0 end) as never_followed_up,
        {{ percentile('business_minutes_to_first_activity', 0.5) }} as median_business_minutes_to_first_activity
    from leads
    group by owner, source_channel

),

final as (

    select
        {{ surrogate_key(['owner', 'source_channel']) }} as owner_channel_key,
        owner,
        source_channel,
        cast(leads as bigint) as leads,
        cast(first_response_targeted as bigint) as first_response_targeted,
        cast(first_response_met as bigint) as first_response_met,
        cast(first_response_missed as bigint) as first_response_missed,
        cast(first_response_pending as bigint) as first_response_pending,
        cast(attempts_met as bigint) as attempts_met,
        cast(attempts_missed as bigint) as attempts_missed,
        cast(attempts_pending as bigint) as attempts_pending,
        cast(sla_met as bigint) as sla_met,
        cast(sla_missed as bigint) as sla_missed,
        cast(sla_pending as bigint) as sla_pending,
        cast(recycled as bigint) as recycled,
        cast(never_followed_up as bigint) as never_followed_up,
        cast(case when sla_met + sla_missed > 0 then sla_met * 1.0 / (sla_met + sla_missed) end as {{ type_double() }})
            as sla_met_rate,
        cast(case
            when first_response_met + first_response_missed > 0
                then first_response_met * 1.0 / (first_response_met + first_response_missed)
        end as {{ type_double() }})
            as first_response_met_rate,
        cast(median_business_minutes_to_first_activity as {{ type_double() }})
            as median_business_minutes_to_first_activity
    from summarised

)

select * from final
