-- One row per customer (person_id): RFM scores and segment, and the dormancy cascade with the next offer date
-- (scored in int_customers_scored).
with

scored as (

    select * from {{ ref('int_customers_scored') }}

),

final as (

    select
        person_id,
        acquisition_channel,
        customer_segment,
        region,
        first_purchase_at,
        last_purchase_at,
        cast(recency_days as bigint) as recency_days,
        cast(frequency as bigint) as frequency,
        cast(monetary as {{ type_double() }}) as monetary,
        cast(r_score as integer) as r_score,
        cast(f_score as integer) as f_score,
        cast(m_score as integer) as m_score,
        rfm_cell,
        rfm_segment,
        cast(months_since_last_purchase as integer) as months_since_last_purchase,
        dormancy_status,
        next_offer_date,
        data_end_at
    from scored

)

select * from final
