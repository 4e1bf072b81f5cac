-- One row per lead_id: the latest delivered version (by updated_at, then load time), typed and normalised.
with

source as (

    select * from {{ source('crm', 'leads') }}

),

cleaned as (

    select
        trim(lead_id) as lead_id,
        {{ to_utc_timestamp('created_at') }} as created_at,
        {{ to_utc_timestamp('updated_at') }} as updated_at,
        {{ clean_text('email') }} as email_cleaned,
        _phone_e164 as phone,
        (nullif(trim(source.phone), '') is not null and _phone_e164 is null) as has_invalid_phone,
        nullif(trim(first_name), '') as first_name,
        nullif(trim(last_name), '') as last_name,
        nullif(trim(company), '') as company,
        {{ clean_text('source_channel') }} as source_channel,
        {{ clean_text('source_campaign') }} as source_campaign,
        {{ clean_text('source_detail') }} as source_detail,
        {{ to_utc_timestamp('first_contact_at') }} as first_contact_at,
        {{ clean_text('product_interest') }} as product_interest,
        {{ clean_text('segment') }} as segment,
        {{ clean_text('region') }} as region,
        {{ clean_text('owner') }} as owner,
        {{ clean_text('lifecycle_stage') }} as lifecycle_stage,
        nullif(trim(declared_need), '') as declared_need,
        {{ to_boolean('consent_marketing') }} as has_marketing_consent,
        {{ to_utc_timestamp('consent_at') }} as consent_at,
        _source_file,
        _row_number,
        _loaded_at
    from source

),

latest as (

    {{ latest_version('cleaned', 'lead_id', 'updated_at desc nulls last, _loaded_at desc, _source_file desc, _row_number desc') }}

),

final as (

    select
        lead_id,
        created_at,
        updated_at,
        {{ normalise_email('email_cleaned') }} as email,
        (email_cleaned is not null and {{ normalise_email('email_cleaned') }} is null) as has_invalid_email,
        phone,
        has_invalid_phone,
        first_name,
        last_name,
        company,
        source_channel,
        source_campaign,
        source_detail,
        first_contact_at,
        product_interest,
        segment,
        region,
        owner,
        lifecycle_stage,
        declared_need,
        has_marketing_consent,
        consent_at,
        _source_file,
        _row_number,
        _loaded_at
    from latest

)

select * from final
