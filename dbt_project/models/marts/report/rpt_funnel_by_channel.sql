{#- The stage-to-stage steps shown per channel, then lead → won. -#}
{%- set steps = [('lead', 'mql'), ('mql', 'sql'), ('sql', 'opportunity'), ('opportunity', 'won'), ('lead', 'won')] -%}
-- One row per first-lead source channel: its leads and the conversion of each step, reached at a stage ÷ reached
-- at the stage before (null when nobody reached the stage before).
with

funnel as (

    select source_channel, stage, reached from {{ ref('mart_funnel') }}

),

pivoted as (

    select
        {{ label_or_not_set('source_channel') }} as source_channel,
        {%- for stage in ['lead', 'mql', 'sql', 'opportunity', 'won'] %}
        sum(case when stage = '{{ stage }}' then reached else 0 end) as reached_{{ stage }}{{ ',' if not loop.last }}
        {%- endfor %}
    from funnel
    group by 1

),

final as (

    select
        source_channel,
        cast(reached_lead as bigint) as leads,
        {%- for from_stage, to_stage in steps %}
        cast(case when reached_{{ from_stage }} > 0 then reached_{{ to_stage }} * 1.0 / reached_{{ from_stage }} end
            as {{ type_double() }}) as {{ from_stage }}_to_{{ to_stage }}_rate{{ ',' if not loop.last }}
        {%- endfor %}
    from pivoted

)

select * from final
