{#- (from stage, its timestamp, to stage, its timestamp). SQL has no date in the CRM export, so MQL goes straight to
    opportunity; "close" is the first won or lost deal. -#}
{%- set transitions = [
    ('lead', 'lead_created_at', 'mql', 'mql_at'),
    ('mql', 'mql_at', 'opportunity', 'opportunity_at'),
    ('opportunity', 'opportunity_at', 'presentation', 'presentation_at'),
    ('presentation', 'presentation_at', 'proposal', 'proposal_at'),
    ('proposal', 'proposal_at', 'negotiation', 'negotiation_at'),
    ('negotiation', 'negotiation_at', 'won', 'won_at'),
    ('lead', 'lead_created_at', 'opportunity', 'opportunity_at'),
    ('opportunity', 'opportunity_at', 'won', 'won_at'),
    ('first_touch', 'first_touch_at', 'opportunity', 'opportunity_at'),
    ('first_touch', 'first_touch_at', 'won', 'won_at'),
    ('first_touch', 'first_touch_at', 'close', 'closed_at'),
] -%}
{%- set breakdowns = [
    ('all', "'all'"),
    ('lead_created_month', dbt.cast('lead_created_month', api.Column.translate_type('string'))),
    ('source_channel', 'source_channel'),
    ('source_campaign', 'source_campaign'),
    ('owner', 'owner'),
] -%}
-- One row per transition × breakdown × value: days from one funnel stage to the next (and from first touch to
-- opportunity and to close), median, p90 and mean over the people who have both dates (int_funnel_people), overall
-- and by lead-creation month, source channel, campaign and owner. Pairs dated in the wrong order (a deal created
-- before its lead, a stage entered before the deal) are left out.
with

people as (

    select * from {{ ref('int_funnel_people') }}

),

durations as (

    {%- for from_stage, from_at, to_stage, to_at in transitions %}
        select
            {{ loop.index }} as transition_order,
            '{{ from_stage }}' as from_stage,
            '{{ to_stage }}' as to_stage,
            lead_created_month,
            source_channel,
            source_campaign,
            owner,
            {{ days_between(from_at, to_at) }} as days
        from people
        where {{ from_at }} is not null and {{ to_at }} is not null and {{ from_at }} <= {{ to_at }}
        {% if not loop.last %}union all{% endif %}
    {%- endfor %}

),

summarised as (

    {%- for breakdown, value in breakdowns %}
        select
            transition_order,
            from_stage,
            to_stage,
            '{{ breakdown }}' as breakdown,
            {{ value }} as breakdown_value,
            count(*) as people,
            {{ percentile('days', 0.5) }} as median_days,
            {{ percentile('days', 0.9) }} as p90_days,
            {{ exact_sum('days') }} / count(days) as mean_days
        from durations
        group by transition_order, from_stage, to_stage{{ ', ' ~ value if breakdown != 'all' }}
        {% if not loop.last %}union all{% endif %}
    {%- endfor %}

),

final as (

    select
        {{ surrogate_key(['transition_order', 'breakdown', 'breakdown_value']) }} as velocity_key,
        cast(transition_order as integer) as transition_order,
        from_stage,
        to_stage,
        breakdown,
        breakdown_value,
        cast(people as bigint) as people,
        cast(median_days as {{ type_double() }}) as median_days,
        cast(p90_days as {{ type_double() }}) as p90_days,
        cast(mean_days as {{ type_double() }}) as mean_days
    from summarised

)

select * from final
