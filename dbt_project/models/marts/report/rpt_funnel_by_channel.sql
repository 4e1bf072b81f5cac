-- One row per first-lead source channel: its leads and the conversion of each step, reached at a stage ÷ reached
-- at the stage before (null when nobody reached the stage before).
with

funnel as (

    select source_channel, stage, reached from {{ ref('mart_funnel') }}

),

pivoted as (

    select
        {{ label_or_not_set('source_channel') }} as source_channel,
        sum(case when stage = 'lead' then reached else 0 end) as reached_lead,
        sum(case when stage = 'mql' then reached else 0 end) as reached_mql,
        sum(case when stage = 'sql' then reached else 0 end) as reached_sql,
        sum(case when stage = 'opportunity' then reached else 0 end) as reached_opportunity,
        sum(case when stage = 'won' then reached else 0 end) as reached_won
    from funnel
    group by 1

),

final as (

    select
        source_channel,
        cast(reached_lead as bigint) as leads,
        {{ rate('reached_mql', 'reached_lead') }} as lead_to_mql_rate,
        {{ rate('reached_sql', 'reached_mql') }} as mql_to_sql_rate,
        {{ rate('reached_opportunity', 'reached_sql') }} as sql_to_opportunity_rate,
        {{ rate('reached_won', 'reached_opportunity') }} as opportunity_to_won_rate,
        {{ rate('reached_won', 'reached_lead') }} as lead_to_won_rate
    from pivoted

)

select * from final
