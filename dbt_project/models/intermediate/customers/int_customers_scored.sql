{%- set first = var('closedloop__dormancy_first_months') -%}
{%- set step = var('closedloop__dormancy_step_months') -%}
{%- set churned = var('closedloop__dormancy_churned_months') -%}
-- One row per customer (key `person_id`): RFM scores and segment, and the dormancy cascade.
-- R, F and M are scored 1–5 by quintile, 5 best (recency: fewest days since the last purchase; frequency:
-- purchases; monetary: total revenue), tie-aware: score = 1 + floor(5 × (k − 1) ÷ n), k = the customer's rank
-- from the worst value with ties sharing the lowest rank (SQL rank(), pandas rank(method='min')). Equal values
-- get equal scores — every one-time buyer has F = 1 — so a score may be skipped when a tie spans a quintile.
-- The 125 R×F×M cells map to 11 segments by the rfm_segments seed.
-- Dormancy: full months since the last purchase below closedloop__dormancy_first_months (9) `active`; then one step
-- every closedloop__dormancy_step_months (3): `dormant_9m`, `dormant_12m`, …; from
-- closedloop__dormancy_churned_months (36) `churned`. next_offer_date is when the next step (the next reactivation
-- offer) is due: null once no step is left before churn.
with

customers as (

    select * from {{ ref('int_customers_summarised') }}

),

segments as (

    select r_score, f_score, m_score, segment from {{ ref('rfm_segments') }}

),

ranked as (

    select
        customers.*,
        {{ tie_aware_quintile('days_since_last_purchase desc') }} as r_score,
        {{ tie_aware_quintile('purchase_count asc') }} as f_score,
        {{ tie_aware_quintile('coalesce(total_revenue, 0) asc') }} as m_score,
        {{ dbt.datediff('last_purchase_at', 'data_end_at', 'month') }} as calendar_months
    from customers

),

-- full months: one less when the day in the month has not come round yet
months_counted as (

    select
        ranked.*,
        calendar_months - case
            when {{ dbt.dateadd('month', 'calendar_months', 'last_purchase_at') }} > data_end_at then 1 else 0
        end as months_since_last_purchase
    from ranked

),

stepped as (

    select
        months_counted.*,
        case
            when months_since_last_purchase < {{ first }} or months_since_last_purchase >= {{ churned }} then null
            else {{ first }} + {{ step }} * cast(floor((months_since_last_purchase - {{ first }}) / {{ step }}.0) as integer)
        end as dormancy_step_months
    from months_counted

),

final as (

    select
        stepped.person_id,
        stepped.first_purchase_at,
        stepped.last_purchase_at,
        stepped.acquisition_channel,
        stepped.segment as customer_segment,
        stepped.region,
        stepped.days_since_last_purchase as recency_days,
        stepped.purchase_count as frequency,
        stepped.total_revenue as monetary,
        stepped.revenue_last_12_months,
        stepped.r_score,
        stepped.f_score,
        stepped.m_score,
        {{ dbt.concat([dbt.cast('stepped.r_score', api.Column.translate_type('string')),
                       dbt.cast('stepped.f_score', api.Column.translate_type('string')),
                       dbt.cast('stepped.m_score', api.Column.translate_type('string'))]) }} as rfm_cell,
        segments.segment as rfm_segment,
        stepped.months_since_last_purchase,
        case
            when stepped.months_since_last_purchase < {{ first }} then 'active'
            when stepped.months_since_last_purchase >= {{ churned }} then 'churned'
            else {{ dbt.concat(["'dormant_'", dbt.cast('stepped.dormancy_step_months', api.Column.translate_type('string')), "'m'"]) }}
        end as dormancy_status,
        cast(case
            when stepped.months_since_last_purchase < {{ first }}
                then {{ dbt.dateadd('month', first, 'stepped.last_purchase_at') }}
            when stepped.dormancy_step_months + {{ step }} < {{ churned }}
                then {{ dbt.dateadd('month', 'stepped.dormancy_step_months + ' ~ step, 'stepped.last_purchase_at') }}
        end as date) as next_offer_date,
        stepped.data_end_at
    from stepped
    left join segments
        on segments.r_score = stepped.r_score
        and segments.f_score = stepped.f_score
        and segments.m_score = stepped.m_score

)

select * from final
