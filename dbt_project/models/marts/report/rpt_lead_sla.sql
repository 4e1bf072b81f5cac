-- One row per breakdown (`owner` or `source_channel`) × its value: leads that met, missed or still wait on the
-- speed-to-lead SLAs.
with

summary as (

    select
        owner,
        source_channel,
        sla_met,
        sla_missed,
        sla_pending
    from {{ ref('mart_lead_sla_summary') }}

),

labelled as (

    select
        'owner' as breakdown,
        {{ label_or_not_set('owner') }} as breakdown_value,
        sla_met,
        sla_missed,
        sla_pending
    from summary
    union all
    select
        'source_channel' as breakdown,
        {{ label_or_not_set('source_channel') }} as breakdown_value,
        sla_met,
        sla_missed,
        sla_pending
    from summary

),

final as (

    select
        breakdown,
        breakdown_value,
        cast(sum(sla_met) as bigint) as sla_met,
        cast(sum(sla_missed) as bigint) as sla_missed,
        cast(sum(sla_pending) as bigint) as sla_pending
    from labelled
    group by breakdown, breakdown_value

)

select * from final
