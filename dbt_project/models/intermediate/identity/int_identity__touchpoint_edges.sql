{{ config(materialized='view', tags=['identity_graph']) }}
-- The identity graph's edges from every delivered touchpoint row the gate did not quarantine (docs/identity.md), one
-- row per delivery and edge, with the delivery's load time. Identity resolution reads the deliveries loaded since its
-- last night, when none of them is a touchpoint delivered before. Written so that the `_loaded_at` filter reaches
-- the raw table's scan (10 s -> 1 s at 1 M leads): the rows are not materialized once for the four kinds of edge,
-- and the quarantine is a left join (a `not exists` would keep the filter above it, after every row is read).
with

quarantined as (

    select distinct record_key
    from {{ source('quality', 'quarantined_keys') }}
    where dataset = 'touchpoints'

),

touchpoints as {{ not_materialized() }} (

    select
        touchpoints._loaded_at,
        {{ identifier('anon', 'touchpoints.anonymous_id') }} as hub,
        {{ identifier('email', 'touchpoints.email') }} as email,
        {{ identifier('phone', 'touchpoints.phone') }} as phone
    from {{ ref('stg_web__touchpoints') }} as touchpoints
    left join quarantined on touchpoints.touchpoint_id = quarantined.record_key
    where touchpoints.touchpoint_id is not null and quarantined.record_key is null

),

final as (

    {{ identity_pairs('touchpoints', carry=['_loaded_at']) }}

)

select * from final
