-- One row per customer (person_id): the BG/NBD inputs (weeks) and the probabilistic CLV of the customers asset
-- (expected purchases, P(alive), expected order value, CLV over closedloop__clv_horizon_months). The CLV columns
-- are null until the asset has fitted the models (model_status says why).
with

customers as (

    select * from {{ ref('int_customers_summarised') }}

),

customer_clv as (

    select * from {{ source('customers', 'customer_clv') }}

),

final as (

    select
        customers.person_id,
        customers.acquisition_channel,
        customers.segment as customer_segment,
        customers.region,
        customers.first_purchase_at,
        customers.first_purchase_month,
        customers.last_purchase_at,
        cast(customers.purchase_count as bigint) as purchase_count,
        cast(customers.total_revenue as {{ type_double() }}) as total_revenue,
        cast(customers.frequency as bigint) as frequency,
        cast(customers.recency_weeks as {{ type_double() }}) as recency_weeks,
        cast(customers.age_weeks as {{ type_double() }}) as age_weeks,
        cast(customers.monetary_value as {{ type_double() }}) as monetary_value,
        cast(customer_clv.expected_purchases as {{ type_double() }}) as expected_purchases,
        cast(customer_clv.probability_alive as {{ type_double() }}) as probability_alive,
        cast(customer_clv.expected_order_value as {{ type_double() }}) as expected_order_value,
        cast(customer_clv.clv as {{ type_double() }}) as clv,
        cast(customer_clv.horizon_months as bigint) as horizon_months,
        coalesce(customer_clv.model_status, 'not_run') as model_status
    from customers
    left join customer_clv on customers.person_id = customer_clv.person_id

)

select * from final
