-- One row per first-purchase month × acquisition channel (`all` for every channel together) × months since the
-- first purchase (k = 0, 1, …): customers of the cohort, customers active (with a purchase) in calendar month
-- cohort + k, retention %, revenue in the month and cumulative revenue per customer. Cells after the end of the data
-- are null, not zero (the month the data ends in counts as observed, though it may be partial).
with

customers as (

    select person_id, acquisition_channel, first_purchase_month, data_end_at
    from {{ ref('int_customers_summarised') }}

),

purchases as (

    select person_id, purchased_at, revenue from {{ ref('int_customer_purchases') }}

),

-- both the channel and `all`
customer_cohorts as (

    select person_id, first_purchase_month, acquisition_channel, data_end_at from customers
    union all
    select person_id, first_purchase_month, 'all', data_end_at from customers

),

cohorts as (

    select
        first_purchase_month as cohort_month,
        acquisition_channel,
        count(*) as customers,
        -- the last month with data: the month the data ends in
        max({{ dbt.datediff('first_purchase_month', 'data_end_at', 'month') }}) as last_month_number
    from customer_cohorts
    group by first_purchase_month, acquisition_channel

),

activity as (

    select
        customer_cohorts.first_purchase_month as cohort_month,
        customer_cohorts.acquisition_channel,
        {{ dbt.datediff('customer_cohorts.first_purchase_month', 'purchases.purchased_at', 'month') }} as month_number,
        count(distinct customer_cohorts.person_id) as active_customers,
        {{ exact_sum('purchases.revenue') }} as revenue
    from customer_cohorts
    inner join purchases on purchases.person_id = customer_cohorts.person_id
    group by 1, 2, 3

),

digits as (

    select 0 as d union all select 1 union all select 2 union all select 3 union all select 4
    union all select 5 union all select 6 union all select 7 union all select 8 union all select 9

),

-- months 0..999: the spine of every cohort up to the longest one observed
month_numbers as (

    select units.d + 10 * tens.d + 100 * hundreds.d as month_number
    from digits as units
    cross join digits as tens
    cross join digits as hundreds

),

max_months as (

    select max(last_month_number) as last_month_number from cohorts

),

cells as (

    select
        cohorts.cohort_month,
        cohorts.acquisition_channel,
        cohorts.customers,
        cohorts.last_month_number,
        month_numbers.month_number
    from cohorts
    cross join month_numbers
    cross join max_months
    where month_numbers.month_number <= max_months.last_month_number

),

filled as (

    select
        cells.cohort_month,
        cells.acquisition_channel,
        cells.month_number,
        cells.customers,
        cells.month_number <= cells.last_month_number as is_observed,
        coalesce(activity.active_customers, 0) as active_customers,
        coalesce(activity.revenue, 0) as revenue
    from cells
    left join activity
        on activity.cohort_month = cells.cohort_month
        and activity.acquisition_channel = cells.acquisition_channel
        and activity.month_number = cells.month_number

),

cumulated as (

    select
        filled.*,
        sum(revenue) over (
            partition by cohort_month, acquisition_channel order by month_number
            rows between unbounded preceding and current row
        ) as cumulative_revenue
    from filled

),

final as (

    select
        cohort_month,
        acquisition_channel,
        cast(month_number as integer) as month_number,
        cast({{ dbt.dateadd('month', 'month_number', 'cohort_month') }} as date) as activity_month,
        cast(customers as bigint) as customers,
        is_observed,
        cast(case when is_observed then active_customers end as bigint) as active_customers,
        case when is_observed then {{ round_float('100.0 * active_customers / customers') }} end as retention_pct,
        case when is_observed then {{ round_float('revenue') }} end as revenue,
        case when is_observed then {{ round_float('cumulative_revenue / customers') }} end
            as cumulative_revenue_per_customer
    from cumulated

)

select * from final
