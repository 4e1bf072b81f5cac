-- One row per funnel stage: the people who reached it, over every month, channel, campaign and owner.
with

funnel as (

    select stage_order, stage, reached from {{ ref('mart_funnel') }}

),

final as (

    select
        cast(stage_order as integer) as stage_order,
        stage,
        cast(sum(reached) as bigint) as reached
    from funnel
    group by 1, 2

)

select * from final
