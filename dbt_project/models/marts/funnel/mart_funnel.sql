{%- set stages = ['lead', 'mql', 'sql', 'opportunity', 'presentation', 'proposal', 'negotiation', 'won'] -%}
-- One row per lead-creation month × source channel × campaign × owner × funnel stage: how many people reached the
-- stage and the conversion from the stage before (reached k ÷ reached k-1) and from lead (int_funnel_people).
-- Every stage appears for every combination, with 0 when nobody reached it.
with

people as (

    select * from {{ ref('int_funnel_people') }}

),

counted as (

    select
        lead_created_month,
        source_channel,
        source_campaign,
        owner,
        count(*) as reached_lead,
        {%- for stage in stages[1:] %}
        sum(case when is_{{ stage }} then 1 else 0 end) as reached_{{ stage }}{{ ',' if not loop.last }}
        {%- endfor %}
    from people
    group by lead_created_month, source_channel, source_campaign, owner

),

stages as (

    {%- for stage in stages %}
    select
        lead_created_month,
        source_channel,
        source_campaign,
        owner,
        {{ loop.index }} as stage_order,
        '{{ stage }}' as stage,
        reached_{{ stage }} as reached,
        {{ 'reached_' ~ loop.previtem if not loop.first else 'cast(null as bigint)' }} as reached_previous,
        reached_lead
    from counted
    {% if not loop.last %}union all{% endif %}
    {%- endfor %}

),

final as (

    select
        {{ surrogate_key(['lead_created_month', 'source_channel', 'source_campaign', 'owner', 'stage']) }} as funnel_key,
        lead_created_month,
        source_channel,
        source_campaign,
        owner,
        cast(stage_order as integer) as stage_order,
        stage,
        cast(reached as bigint) as reached,
        cast(reached_previous as bigint) as reached_previous,
        cast(case when reached_previous > 0 then reached * 1.0 / reached_previous end as {{ type_double() }}) as conversion_rate,
        cast(case when reached_lead > 0 then reached * 1.0 / reached_lead end as {{ type_double() }}) as conversion_rate_from_lead
    from stages

)

select * from final
