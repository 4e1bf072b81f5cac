{{ config(materialized='view', tags=['identity_graph']) }}
-- The identity graph's edges from every delivered touchpoint row the gate did not quarantine (docs/identity.md), one
-- row per delivery and edge, with the delivery's id, load time, file and row. int_identity__edges keeps a
-- touchpoint's newest delivery; identity resolution reads the deliveries loaded since its last night (the
-- `_loaded_at` filter reaches the raw table's scan), when none of them is a touchpoint delivered before.
with

touchpoints as (

    select
        touchpoint_id,
        _loaded_at,
        _source_file,
        _row_number,
        {{ identifier('anon', 'anonymous_id') }} as hub,
        {{ identifier('email', 'email') }} as email,
        {{ identifier('phone', 'phone') }} as phone
    from {{ ref('stg_web__touchpoints') }}
    where {{ not_quarantined('touchpoints', 'touchpoint_id') }}

),

final as (

    {{ identity_pairs('touchpoints', carry=['touchpoint_id', '_loaded_at', '_source_file', '_row_number']) }}

)

select * from final
