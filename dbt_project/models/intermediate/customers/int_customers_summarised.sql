-- One row per customer (key `person_id`): a person with a won deal or an order (SPEC §8), with the first purchase,
-- the acquisition channel, segment and region, and the purchase history in BG/NBD units. Time unit: the week
-- (7 days, fractional). The first purchase is purchase zero: frequency = repeat purchases, recency = weeks from the
-- first to the last purchase, age (T) = weeks from the first purchase to the end of the data, monetary_value = mean
-- revenue of the repeat purchases (null without any).
with

purchases as (

    select * from {{ ref('int_customer_purchases') }}

),

people as (

    select person_id, original_source_channel, first_lead_id from {{ ref('int_people') }}

),

leads as (

    select lead_id, segment, region from {{ ref('stg_crm__leads') }}

),

-- the end of the data: the newest event of any kind delivered (a customer's age is measured up to it)
data_ends as (

    select max(purchased_at) as event_at from purchases
    union all
    select max(created_at) from {{ ref('int_deals_valued') }}
    union all
    select max(occurred_at) from {{ ref('int_touchpoints_classified') }}

),

data_end as (

    select max(event_at) as data_end_at from data_ends

),

purchases_numbered as (

    select
        person_id,
        purchased_at,
        revenue,
        row_number() over (partition by person_id order by purchased_at, purchase_id) as purchase_number,
        purchased_at > {{ dbt.dateadd('month', -12, 'data_end.data_end_at') }} as is_in_last_12_months
    from purchases
    cross join data_end

),

summarised as (

    select
        person_id,
        min(purchased_at) as first_purchase_at,
        max(purchased_at) as last_purchase_at,
        count(*) as purchase_count,
        {{ exact_sum('revenue') }} as total_revenue,
        max(case when purchase_number = 1 then revenue end) as first_purchase_revenue,
        {{ exact_sum('case when purchase_number > 1 then revenue end') }}
            / nullif(count(case when purchase_number > 1 then revenue end), 0) as monetary_value,
        coalesce({{ exact_sum('case when is_in_last_12_months then revenue end') }}, 0) as revenue_last_12_months
    from purchases_numbered
    group by person_id

),

final as (

    select
        summarised.person_id,
        summarised.first_purchase_at,
        cast({{ dbt.date_trunc('month', 'summarised.first_purchase_at') }} as date) as first_purchase_month,
        summarised.last_purchase_at,
        coalesce(people.original_source_channel, 'unknown') as acquisition_channel,
        coalesce(leads.segment, 'unknown') as segment,
        coalesce(leads.region, 'unknown') as region,
        summarised.purchase_count,
        summarised.total_revenue,
        summarised.first_purchase_revenue,
        summarised.purchase_count - 1 as frequency,
        cast({{ dbt.datediff('summarised.first_purchase_at', 'summarised.last_purchase_at', 'second') }} as float8)
            / 604800.0 as recency_weeks,
        cast({{ dbt.datediff('summarised.first_purchase_at', 'data_end.data_end_at', 'second') }} as float8)
            / 604800.0 as age_weeks,
        summarised.monetary_value,
        summarised.revenue_last_12_months,
        {{ dbt.datediff('summarised.last_purchase_at', 'data_end.data_end_at', 'day') }} as days_since_last_purchase,
        data_end.data_end_at
    from summarised
    cross join data_end
    left join people on summarised.person_id = people.person_id
    left join leads on people.first_lead_id = leads.lead_id

)

select * from final
