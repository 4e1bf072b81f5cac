{{ config(tags=['after_python']) }}
{%- set years = int_setting('closedloop__ltv_npv_years') -%}
-- Tagged after_python: it reads the CLV step's tables, so the nightly run builds it with the marts, after that step.
-- One row per segment (key segment_type × segment_value): the inputs of the LTV formulas, over all customers
-- (`overall`/`all`) and by acquisition_channel, customer segment and region.
-- Acquisition revenue (won deals) is kept apart from recurring revenue (orders): ARPU, AOV and purchases per year
-- are recurring only, so a one-off contract is not extrapolated as if it recurred.
-- Retention comes from the fitted BG/NBD (customer_clv): expected dropouts = Σ (1 − P(alive)), which treats
-- customers still inside their window as censored; monthly churn = expected dropouts ÷ customer-months of exposure.
-- Revenue per customer in customer-year t (1..H) = what was observed in that year of each customer's life plus,
-- where the year lies beyond the data end, the CLV step's projection (customer_clv_years), so every customer
-- counts in every year. Margin: each purchase's gross_margin (int_customer_purchases); projected orders take the
-- customer's recurring_gross_margin.
with

customers as (

    select * from {{ ref('int_customers_scored') }}

),

summaries as (

    select
        person_id, age_weeks, acquisition_revenue, recurring_revenue, recurring_purchases, margin_revenue,
        recurring_margin_revenue, recurring_gross_margin
    from {{ ref('int_customers_summarised') }}

),

purchases as (

    select person_id, purchased_at, revenue, gross_margin from {{ ref('int_customer_purchases') }}

),

customer_clv as (

    select person_id, probability_alive, clv, model_status from {{ source('customers', 'customer_clv') }}

),

clv_years as (

    select person_id, customer_year, expected_revenue from {{ source('customers', 'customer_clv_years') }}

),

-- revenue by year since the customer's first purchase (year 1 = the first 365.25 days)
purchase_years as (

    select
        purchases.person_id,
        cast(floor({{ dbt.datediff('customers.first_purchase_at', 'purchases.purchased_at', 'day') }} / 365.25) as integer) + 1
            as customer_year,
        purchases.revenue,
        purchases.revenue * purchases.gross_margin as margin_revenue
    from purchases
    inner join customers on purchases.person_id = customers.person_id

),

revenue_by_year as (

    select
        person_id
        {%- for t in range(1, years + 1) %},
        {{ exact_sum('case when customer_year = ' ~ t ~ ' then revenue else 0 end') }} as revenue_year_{{ t }},
        {{ exact_sum('case when customer_year = ' ~ t ~ ' then margin_revenue else 0 end') }} as margin_year_{{ t }}
        {%- endfor %}
    from purchase_years
    group by person_id

),

projected_by_year as (

    select
        person_id
        {%- for t in range(1, years + 1) %},
        sum(case when customer_year = {{ t }} then expected_revenue end) as projected_revenue_year_{{ t }}
        {%- endfor %}
    from clv_years
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
        summaries.acquisition_revenue,
        summaries.recurring_revenue,
        summaries.recurring_purchases,
        summaries.margin_revenue,
        summaries.recurring_margin_revenue,
        summaries.age_weeks / {{ 365.25 / 7 / 12 }} as exposure_months,
        customer_clv.probability_alive,
        customer_clv.clv,
        coalesce(customer_clv.model_status, 'not_run') as model_status,
        -- the retention of (e): P(alive) where fitted, else whether the customer is still `active`
        coalesce(customer_clv.probability_alive,
            case when customers.dormancy_status = 'active' then 1.0 else 0.0 end) as retention_probability,
        customers.revenue_last_12_months
        {%- for t in range(1, years + 1) %},
        coalesce(revenue_by_year.revenue_year_{{ t }}, 0)
            + coalesce(projected_by_year.projected_revenue_year_{{ t }}, 0) as revenue_year_{{ t }},
        coalesce(revenue_by_year.margin_year_{{ t }}, 0)
            + coalesce(projected_by_year.projected_revenue_year_{{ t }}, 0) * summaries.recurring_gross_margin
            as margin_year_{{ t }}
        {%- endfor %}
    from customers
    inner join summaries on customers.person_id = summaries.person_id
    left join revenue_by_year on customers.person_id = revenue_by_year.person_id
    left join projected_by_year on customers.person_id = projected_by_year.person_id
    left join customer_clv on customers.person_id = customer_clv.person_id

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

-- (e): per RFM sub-segment, the revenue of the last 12 months × the sub-segment's mean retention probability
sub_segments as (

    select
        segment_type,
        segment_value,
        rfm_segment,
        {{ exact_sum('revenue_last_12_months') }} * avg(cast(retention_probability as {{ type_double() }})) as retained_revenue
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
        sum(recurring_purchases) as recurring_purchases,
        {{ exact_sum('revenue') }} as revenue,
        {{ exact_sum('acquisition_revenue') }} as acquisition_revenue,
        {{ exact_sum('recurring_revenue') }} as recurring_revenue,
        {{ exact_sum('margin_revenue') }} as margin_revenue,
        {{ exact_sum('recurring_margin_revenue') }} as recurring_margin_revenue,
        {{ exact_sum('exposure_months') }} as exposure_months,
        max(exposure_months) as observed_months,
        -- null unless every customer of the segment was fitted
        case when count(probability_alive) = count(*) then {{ exact_sum('1 - probability_alive') }} end
            as expected_dropouts,
        case when count(clv) = count(*) then {{ exact_sum('clv') }} end as clv,
        max(model_status) as model_status
        {%- for t in range(1, years + 1) %},
        {{ exact_sum('revenue_year_' ~ t) }} as revenue_year_{{ t }},
        {{ exact_sum('margin_year_' ~ t) }} as margin_year_{{ t }}
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
        aggregated.recurring_purchases,
        cast(aggregated.revenue as {{ type_double() }}) as revenue,
        cast(aggregated.acquisition_revenue as {{ type_double() }}) as acquisition_revenue,
        cast(aggregated.recurring_revenue as {{ type_double() }}) as recurring_revenue,
        aggregated.exposure_months,
        aggregated.observed_months,
        aggregated.expected_dropouts,
        aggregated.acquisition_revenue / aggregated.customers as acquisition_revenue_per_customer,
        aggregated.recurring_revenue / nullif(aggregated.exposure_months, 0) as arpu_monthly,
        -- no expected dropout (nobody bought twice): churn unknown, not zero
        cast(nullif(aggregated.expected_dropouts, 0) as {{ type_double() }}) / nullif(aggregated.exposure_months, 0)
            as monthly_churn,
        aggregated.recurring_revenue / nullif(aggregated.recurring_purchases, 0) as aov,
        aggregated.recurring_purchases / nullif(aggregated.exposure_months / 12.0, 0) as purchases_per_year,
        -- margins as the data says: revenue-weighted over the purchases (recorded, else the default)
        coalesce(aggregated.recurring_margin_revenue / nullif(aggregated.recurring_revenue, 0),
            {{ number_setting('closedloop__default_gross_margin') }}) as recurring_gross_margin,
        (0{% for t in range(1, years + 1) %} + aggregated.margin_year_{{ t }}{% endfor %})
            / nullif(0{% for t in range(1, years + 1) %} + aggregated.revenue_year_{{ t }}{% endfor %}, 0)
            as gross_margin,
        {%- for t in range(1, years + 1) %}
        aggregated.revenue_year_{{ t }} / aggregated.customers as revenue_per_customer_year_{{ t }},
        aggregated.margin_year_{{ t }} / nullif(aggregated.revenue_year_{{ t }}, 0) as gross_margin_year_{{ t }},
        {%- endfor %}
        aggregated.clv / aggregated.customers as clv_per_customer,
        aggregated.model_status,
        retained.retained_revenue / aggregated.customers as retained_revenue_per_customer
    from aggregated
    inner join retained
        on aggregated.segment_type = retained.segment_type and aggregated.segment_value = retained.segment_value

)

select * from final
