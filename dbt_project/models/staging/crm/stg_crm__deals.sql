-- One row per deal_id: the latest delivered version (by updated_at, then load time), typed.
with

source as (

    select * from {{ source('crm', 'deals') }}

),

cleaned as (

    select
        trim(deal_id) as deal_id,
        trim(lead_id) as lead_id,
        {{ to_utc_timestamp('created_at') }} as created_at,
        {{ to_utc_timestamp('updated_at') }} as updated_at,
        {{ clean_text('stage') }} as stage,
        {{ to_number('amount') }} as amount,
        upper(trim(currency)) as currency,
        {{ to_utc_timestamp('closed_at') }} as closed_at,
        {{ clean_text('outcome') }} as outcome,
        {{ clean_text('loss_reason') }} as loss_reason,
        {{ clean_text('product') }} as product,
        {{ clean_text('owner') }} as owner,
        _source_file,
        _row_number,
        _loaded_at
    from source

),

latest as (

    {{ latest_version(
        'cleaned', 'deal_id', 'updated_at desc nulls last, _loaded_at desc, _source_file desc, _row_number desc'
    ) }}

),

final as (

    select
        deal_id,
        lead_id,
        created_at,
        updated_at,
        stage,
        amount,
        currency,
        closed_at,
        outcome,
        loss_reason,
        product,
        owner,
        _source_file,
        _row_number,
        _loaded_at
    from latest

)

select * from final
