-- One row per activity_id (latest delivery wins): sales follow-up on a lead.
with

source as (

    select * from {{ source('crm', 'activities') }}

),

cleaned as (

    select
        trim(activity_id) as activity_id,
        trim(lead_id) as lead_id,
        {{ to_utc_timestamp('occurred_at') }} as occurred_at,
        {{ clean_text('activity_type') }} as activity_type,
        {{ clean_text('outcome') }} as outcome,
        {{ clean_text('owner') }} as owner,
        _source_file,
        _row_number,
        _loaded_at
    from source

),

latest as (

    {{ latest_version('cleaned', 'activity_id', '_loaded_at desc, _source_file desc, _row_number desc') }}

),

final as (

    select
        activity_id, lead_id, occurred_at, activity_type, outcome, owner, _source_file, _row_number, _loaded_at
    from latest

)

select * from final
