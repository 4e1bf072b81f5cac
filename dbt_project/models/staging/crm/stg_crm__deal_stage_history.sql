-- One row per deal × stage entry as delivered (the same entry delivered twice is one row).
with

source as (

    select * from {{ source('crm', 'deal_stage_history') }}

),

cleaned as (

    select
        trim(deal_id) as deal_id,
        {{ clean_text('stage') }} as stage,
        {{ to_utc_timestamp('entered_at') }} as entered_at,
        _loaded_at
    from source

),

latest as (

    {{ latest_version('cleaned', 'deal_id, stage, entered_at', '_loaded_at desc') }}

),

final as (

    select deal_id, stage, entered_at, _loaded_at from latest

)

select * from final
