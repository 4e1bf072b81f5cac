{%- set years = var('closedloop__ltv_npv_years') -%}
-- One row per segment (key segment_type × segment_value): the inputs of the LTV formulas of SPEC §8, over all
-- customers (`overall`/`all`) and by acquisition_channel, customer segment and region. Exposure is measured from
-- each customer's first purchase to the end of the data, in months (weeks ÷ 4.348). A customer has lapsed once
-- closedloop__ltv_churn_after_months full months have passed since their last purchase (default 9, the first
-- dormancy step); monthly churn = lapsed customers ÷ customer-months of exposure (null while nobody has lapsed).
with

customers as (

    select * from {{ ref('int_customers_scored') }}

),

summaries as (

    select person_id, age_weeks from {{ ref('int_customers_summarised') }}

),

purchases as (

    select person_id, purchased_at, revenue from {{ ref('int_customer_purchases') }}

),

-- revenue by year since the customer's first purchase (year 1 = the first 365.25 days)
purchase_years as (

    select
        purchases.person_id,
        cast(floor({{ dbt.datediff('customers.first_purchase_at', 'purchases.purchased_at', 'day') }} / 365.25) as integer) + 1
            as customer_year,
        purchases.revenue
    from purchases
    inner join customers on purchases.person_id = customers.person_id

),

revenue_by_year as (

    select
        person_id
        {%- for t in range(1, years + 1) %},
        {{ exact_sum('case when customer_year = ' ~ t ~ ' then revenue else 0 end') }} as revenue_year_{{ t }}
        {%- endfor %}
    from purchase_years
    group by person_id

),

customer_facts as (

    select
        customers.person_id,
        customers.acquisition_channel,
        customers.customer_segment,
        customers.region,
        customers.rfm_segment,
        customers.frequency as purchases,
        coalesce(customers.monetary, 0) as revenue,
        summaries.age_weeks / {{ 365.25 / 7 / 12 }} as exposure_months,
        case when customers.months_since_last_purchase >= {{ var('closedloop__ltv_churn_after_months') }}
            then 1 else 0 end as is_lapsed,
        case when customers.dormancy_status = 'active' then 1 else 0 end as is_active,
        customers.revenue_last_12_months
        {%- for t in range(1, years + 1) %},
        -- year {{ t }} counts for the customers who have reached it
        case when summaries.age_weeks * 7 >= {{ 365.25 * (t - 1) }} then 1 else 0 end as has_year_{{ t }},
        coalesce(revenue_by_year.revenue_year_{{ t }}, 0) as revenue_year_{{ t }}
        {%- endfor %}
    from customers
    inner join summaries on customers.person_id = summaries.person_id
    left join revenue_by_year on customers.person_id = revenue_by_year.person_id

),

by_segment as (

    select 'overall' as segment_type, 'all' as segment_value, customer_facts.* from customer_facts
    union all
    select 'acquisition_channel', acquisition_channel, customer_facts.* from customer_facts
    union all
    select 'segment', customer_segment, customer_facts.* from customer_facts
    union all
    select 'region', region, customer_facts.* from customer_facts

),

-- (e): per RFM sub-segment, the revenue of the last 12 months × the share of its customers still active
sub_segments as (

    select
        segment_type,
        segment_value,
        rfm_segment,
        {{ exact_sum('revenue_last_12_months') }} * avg(cast(is_active as float8)) as retained_revenue
    from by_segment
    group by segment_type, segment_value, rfm_segment

),

retained as (

    select segment_type, segment_value, {{ exact_sum('retained_revenue') }} as retained_revenue
    from sub_segments
    group by segment_type, segment_value

),

aggregated as (

    select
        segment_type,
        segment_value,
        count(*) as customers,
        sum(purchases) as purchases,
        {{ exact_sum('revenue') }} as revenue,
        {{ exact_sum('exposure_months') }} as exposure_months,
        sum(is_lapsed) as lapsed_customers
        {%- for t in range(1, years + 1) %},
        sum(has_year_{{ t }}) as customers_year_{{ t }},
        {{ exact_sum('case when has_year_' ~ t ~ ' = 1 then revenue_year_' ~ t ~ ' end') }} as revenue_year_{{ t }}
        {%- endfor %}
    from by_segment
    group by segment_type, segment_value

),

final as (

    select
        aggregated.segment_type,
        aggregated.segment_value,
        aggregated.customers,
        aggregated.purchases,
        cast(aggregated.revenue as float8) as revenue,
        aggregated.exposure_months,
        aggregated.lapsed_customers,
        aggregated.revenue / nullif(aggregated.exposure_months, 0) as arpu_monthly,
        cast(nullif(aggregated.lapsed_customers, 0) as float8) / nullif(aggregated.exposure_months, 0) as monthly_churn,
        aggregated.revenue / nullif(aggregated.purchases, 0) as aov,
        aggregated.purchases / nullif(aggregated.exposure_months / 12.0, 0) as purchases_per_year,
        {%- for t in range(1, years + 1) %}
        aggregated.revenue_year_{{ t }} / nullif(aggregated.customers_year_{{ t }}, 0) as revenue_per_customer_year_{{ t }},
        {%- endfor %}
        retained.retained_revenue / aggregated.customers as retained_revenue_per_customer
    from aggregated
    inner join retained
        on aggregated.segment_type = retained.segment_type and aggregated.segment_value = retained.segment_value

)

select * from final
