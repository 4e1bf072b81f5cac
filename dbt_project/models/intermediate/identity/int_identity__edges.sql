{{ config(materialized='view') }}
-- The identity graph's edges (docs/identity.md): one row per distinct pair of typed identifiers seen on the same record
-- (lead:<lead_id>, email:<normalised>, phone:<E.164>, anon:<anonymous_id>), plus identifiers seen alone
-- (right_identifier null). Identity resolution (orchestration/defs/identity) reads it and writes the people.
-- A view built with staging: read after the quality gate, it leaves out the rows the gate quarantined.
with

leads as (

    select lead_id, email, phone
    from {{ ref('stg_crm__leads') }}
    where lead_id is not null and {{ not_quarantined('leads', 'lead_id') }}

),

touchpoint_versions as (

    select touchpoint_id, _loaded_at, _source_file, _row_number
    from {{ ref('stg_web__touchpoints') }}
    where touchpoint_id is not null

),

-- a touchpoint delivered twice links through its newest version only (as int_touchpoints_classified keeps it)
superseded_touchpoints as (

    {{ superseded_versions(
        'touchpoint_versions', 'touchpoint_id', '_loaded_at desc, _source_file desc, _row_number desc'
    ) }}

),

latest_touchpoints as (

    select touchpoints.anonymous_id, touchpoints.email, touchpoints.phone
    from {{ ref('stg_web__touchpoints') }} as touchpoints
    where
        {{ not_quarantined('touchpoints', 'touchpoints.touchpoint_id') }}
        and {{ not_superseded(
            'superseded_touchpoints', 'touchpoints', 'touchpoint_id, _loaded_at, _source_file, _row_number'
        ) }}

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

-- the cookie is the hub of a touch; without one, the email and phone link to each other
touchpoint_identifiers as (

    select
        {{ identifier('anon', 'anonymous_id') }} as hub,
        {{ identifier('email', 'email') }} as email,
        {{ identifier('phone', 'phone') }} as phone
    from latest_touchpoints

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
    select hub, email, phone from touchpoint_identifiers
    union all
    select hub, email, phone from order_identifiers

),

paired as (

    select hub as left_identifier, email as right_identifier
    from record_identifiers
    where hub is not null and email is not null
    union all
    select hub, phone
    from record_identifiers
    where hub is not null and phone is not null
    union all
    select email, phone
    from record_identifiers
    where hub is null and email is not null and phone is not null

),

alone as (

    select coalesce(hub, email, phone) as left_identifier, cast(null as {{ dbt.type_string() }}) as right_identifier
    from record_identifiers
    where
        (case when hub is null then 0 else 1 end)
        + (case when email is null then 0 else 1 end)
        + (case when phone is null then 0 else 1 end) = 1

),

final as (

    select left_identifier, right_identifier from paired
    union
    select left_identifier, right_identifier from alone

)

select * from final
