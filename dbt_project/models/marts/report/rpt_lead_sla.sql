-- One row per breakdown (`owner` or `source_channel`) × its value: leads that met, missed or still wait on the
-- speed-to-lead SLAs.
with

summary as (

    select owner, source_channel, sla_met, sla_missed, sla_pending from {{ ref('mart_lead_sla_summary') }}

),

{% for breakdown in ['owner', 'source_channel'] -%}
by_{{ breakdown }} as (

    select
        '{{ breakdown }}' as breakdown,
        {{ label_or_not_set(breakdown) }} as breakdown_value,
        sum(sla_met) as sla_met,
        sum(sla_missed) as sla_missed,
        sum(sla_pending) as sla_pending
    from summary
    group by 2

),

{% endfor -%}
final as (

    {% for breakdown in ['owner', 'source_channel'] -%}
    select
        breakdown,
        breakdown_value,
        cast(sla_met as bigint) as sla_met,
        cast(sla_missed as bigint) as sla_missed,
        cast(sla_pending as bigint) as sla_pending
    from by_{{ breakdown }}
    {% if not loop.last %}union all{% endif %}
    {% endfor %}
)

select * from final
