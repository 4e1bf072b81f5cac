-- One row per delivered erasure request, identifiers normalised like everywhere else.
with

source as (

    select * from {{ source('privacy', 'erasure_requests') }}

),

cleaned as (

    select
        {{ to_utc_timestamp('requested_at') }} as requested_at,
        {{ clean_text('email') }} as email_cleaned,
        _phone_e164 as phone,
        _loaded_at
    from source

),

final as (

    select requested_at, {{ normalise_email('email_cleaned') }} as email, phone, _loaded_at from cleaned

)

select * from final
