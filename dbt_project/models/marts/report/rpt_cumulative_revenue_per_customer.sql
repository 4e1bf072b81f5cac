-- One row per acquisition channel (and `all`) × month since the first purchase: revenue per customer in that
-- month over the cohorts observed that far, and its running sum. Summing each month's rate keeps the curve from
-- falling; pooling the cohorts' cumulative values would mix cohorts of different ages (older ones alone at the
-- far months).
with

cohorts as (

    select acquisition_channel, month_number, customers, revenue from {{ ref('mart_cohorts') }}
    where is_observed

),

per_month as (

    select
        acquisition_channel,
        month_number,
        sum(customers) as customers,
        {{ exact_sum('revenue') }} as revenue
    from cohorts
    group by 1, 2

),

rated as (

    select
        per_month.*,
        case when per_month.customers > 0 then per_month.revenue / per_month.customers end as revenue_per_customer
    from per_month

),

accumulated as (

    select
        rated.*,
        sum(coalesce(rated.revenue_per_customer, 0)) over (
            partition by rated.acquisition_channel
            order by rated.month_number
            rows between unbounded preceding and current row
        ) as cumulative_revenue_per_customer
    from rated

),

final as (

    select
        acquisition_channel,
        cast(month_number as integer) as month_number,
        cast(customers as bigint) as customers,
        cast(revenue_per_customer as {{ type_double() }}) as revenue_per_customer,
        cast(cumulative_revenue_per_customer as {{ type_double() }}) as cumulative_revenue_per_customer
    from accumulated

)

select * from final
