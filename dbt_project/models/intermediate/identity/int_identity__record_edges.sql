{{ config(materialized='view', tags=['identity_graph']) }}
-- The identity graph's edges from the CRM's leads and the shop's orders (docs/identity.md): one row per distinct pair,
-- plus identifiers seen alone. Few rows beside the touchpoints', so identity resolution reads it whole every night,
-- and compares it with last night's to see whether an edge of these records is gone.
with

leads as (

    select lead_id, email, phone
    from {{ ref('stg_crm__leads') }}
    where lead_id is not null and {{ not_quarantined('leads', 'lead_id') }}

),

orders as (

    select order_id, email, phone, lead_id
    from {{ ref('stg_commerce__orders') }}
    where order_id is not null and {{ not_quarantined('orders', 'order_id') }}

),

lead_identifiers as (

    select
        {{ identifier('lead', 'lead_id') }} as hub,
        {{ identifier('email', 'email') }} as email,
        {{ identifier('phone', 'phone') }} as phone
    from leads

),

-- an order links to its lead only when the lead exists (a dangling lead_id is the quality gate's finding)
order_identifiers as (

    select
        case when known_leads.lead_id is not null then {{ identifier('lead', 'orders.lead_id') }} end as hub,
        {{ identifier('email', 'orders.email') }} as email,
        {{ identifier('phone', 'orders.phone') }} as phone
    from orders
    left join leads as known_leads on orders.lead_id = known_leads.lead_id

),

record_identifiers as (

    select hub, email, phone from lead_identifiers
    union all
    select hub, email, phone from order_identifiers

),

pairs as (

    {{ identity_pairs('record_identifiers') }}

),

final as (

    select distinct left_identifier, right_identifier from pairs

)

select * from final
