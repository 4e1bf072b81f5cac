-- One row per attribution model × channel, all months together: the value each model credits to the channel and
-- its share of the model's won revenue (every model hands out the same total).
with

roi as (

    select model, channel, attributed_revenue, attributed_lost_value, spend from {{ ref('mart_channel_roi') }}

),

summed as (

    select
        model,
        {{ label_or_not_set('channel') }} as channel,
        {{ exact_sum('attributed_revenue') }} as attributed_revenue,
        {{ exact_sum('attributed_lost_value') }} as attributed_lost_value,
        {{ exact_sum('spend') }} as spend
    from roi
    group by 1, 2

),

totals as (

    -- summed exactly, like every money total: a float window sum depends on the order rows arrive in
    select
        model,
        {{ exact_sum('attributed_revenue') }} as model_revenue
    from summed
    group by 1

),

shared as (

    select
        summed.*,
        totals.model_revenue
    from summed
    inner join totals on summed.model = totals.model

),

final as (

    select
        model,
        channel,
        cast(attributed_revenue as {{ type_double() }}) as attributed_revenue,
        cast(attributed_lost_value as {{ type_double() }}) as attributed_lost_value,
        cast(spend as {{ type_double() }}) as spend,
        cast(case when model_revenue <> 0 then 100 * attributed_revenue / model_revenue end as {{ type_double() }})
            as revenue_share_pct
    from shared

)

select * from final
