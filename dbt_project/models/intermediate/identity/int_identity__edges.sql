{{ config(materialized='view', tags=['identity_graph']) }}
-- The identity graph's edges (docs/identity.md): one row per distinct pair of typed identifiers seen on the same record
-- (lead:<lead_id>, email:<normalised>, phone:<E.164>, anon:<anonymous_id>), plus identifiers seen alone
-- (right_identifier null): the leads' and orders' edges (int_identity__record_edges), and those of every touchpoint's
-- newest delivery (as int_identity__touchpoint_edges pairs every delivery).
-- Identity resolution (orchestration/defs/identity) reads it whenever it cannot read only the new touchpoints'.
-- A view built with staging: read after the quality gate, it leaves out the rows the gate quarantined.
with

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

    select
        {{ identifier('anon', 'touchpoints.anonymous_id') }} as hub,
        {{ identifier('email', 'touchpoints.email') }} as email,
        {{ identifier('phone', 'touchpoints.phone') }} as phone
    from {{ ref('stg_web__touchpoints') }} as touchpoints
    where
        {{ not_quarantined('touchpoints', 'touchpoints.touchpoint_id') }}
        and {{ not_superseded(
            'superseded_touchpoints', 'touchpoints', 'touchpoint_id, _loaded_at, _source_file, _row_number'
        ) }}

),

-- the cookie is the hub of a touch; without one, the email and phone link to each other
latest_touchpoint_edges as (

    {{ identity_pairs('latest_touchpoints') }}

),

final as (

    select left_identifier, right_identifier from {{ ref('int_identity__record_edges') }}
    union
    select left_identifier, right_identifier from latest_touchpoint_edges

)

select * from final
