-- Every staged order with the values and flags the gate's rules read.
with

orders as (

    select * from {{ ref('stg_commerce__orders') }}

),

leads as (

    select distinct lead_id from {{ ref('stg_crm__leads') }}

),

conflicting as (

    {{ conflicting_versions(source('commerce', 'orders'), 'order_id') }}

),

final as (

    select
        {{ record_key('orders.order_id', 'orders') }} as record_key,
        orders.order_id,
        orders.ordered_at,
        orders.amount,
        orders.currency,
        orders.gross_margin,
        (orders.email is null and orders.phone is null and orders.lead_id is null) as lacks_customer,
        orders.has_invalid_email,
        orders.has_invalid_phone,
        (orders.lead_id is not null and leads.lead_id is null) as has_unknown_lead,
        {{ lacks_fx_rate('orders.currency', 'cast(orders.ordered_at as date)') }} as lacks_fx_rate,
        (conflicting.record_key is not null) as is_conflicting_duplicate
    from orders
    left join leads on orders.lead_id = leads.lead_id
    left join conflicting on orders.order_id = conflicting.record_key

)

select * from final
