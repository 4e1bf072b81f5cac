-- One row per order_id (latest delivery wins): repeat purchases after the sale.
with

source as (

    select * from {{ source('commerce', 'orders') }}

),

cleaned as (

    select
        trim(order_id) as order_id,
        {{ to_utc_timestamp('ordered_at') }} as ordered_at,
        {{ clean_text('email') }} as email_cleaned,
        _phone_e164 as phone,
        (nullif(trim(source.phone), '') is not null and _phone_e164 is null) as has_invalid_phone,
        nullif(trim(lead_id), '') as lead_id,
        {{ to_number('amount') }} as amount,
        upper(trim(currency)) as currency,
        {{ to_number('gross_margin') }} as gross_margin,
        _source_file,
        _row_number,
        _loaded_at
    from source

),

latest as (

    {{ latest_version('cleaned', 'order_id', '_loaded_at desc, _source_file desc, _row_number desc') }}

),

final as (

    select
        order_id,
        ordered_at,
        {{ normalise_email('email_cleaned') }} as email,
        (email_cleaned is not null and {{ normalise_email('email_cleaned') }} is null) as has_invalid_email,
        phone,
        has_invalid_phone,
        lead_id,
        amount,
        currency,
        gross_margin,
        _source_file,
        _row_number,
        _loaded_at
    from latest

)

select * from final
