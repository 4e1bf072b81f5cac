-- One row per delivered touchpoint row: typed, UTC, normalised identifiers, UTMs parsed from the URL when the
-- columns are empty. Duplicates across deliveries are resolved downstream (int_touchpoints_classified).
with

source as (

    select * from {{ source('web', 'touchpoints') }}

),

cleaned as (

    select
        trim(touchpoint_id) as touchpoint_id,
        {{ to_utc_timestamp('occurred_at') }} as occurred_at,
        -- cookie ids match whatever their case (tools upper-case them on export); erasure does the same
        lower(nullif(trim(anonymous_id), '')) as anonymous_id,
        {{ clean_text('email') }} as email_cleaned,
        _phone_e164 as phone,
        (nullif(trim(source.phone), '') is not null and _phone_e164 is null) as has_invalid_phone,
        {{ clean_text('touchpoint_type') }} as touchpoint_type,
        nullif(trim(page_url), '') as page_url,
        nullif(trim(referrer_url), '') as referrer_url,
        {{ clean_text('utm_source') }} as utm_source_column,
        {{ clean_text('utm_medium') }} as utm_medium_column,
        {{ clean_text('utm_campaign') }} as utm_campaign_column,
        {{ clean_text('utm_content') }} as utm_content_column,
        {{ clean_text('utm_term') }} as utm_term_column,
        nullif(trim(content_id), '') as content_id,
        _source_file,
        _row_number,
        _loaded_at,
        _run_id
    from source

),

parsed as (

    select
        touchpoint_id,
        occurred_at,
        anonymous_id,
        {{ normalise_email('email_cleaned') }} as email,
        (email_cleaned is not null and {{ normalise_email('email_cleaned') }} is null) as has_invalid_email,
        phone,
        has_invalid_phone,
        touchpoint_type,
        page_url,
        referrer_url,
        {{ url_host('page_url') }} as page_host,
        {{ url_path('page_url') }} as page_path,
        {{ url_host('referrer_url') }} as referrer_host,
        coalesce(utm_source_column, nullif(trim({{ url_param('page_url', 'utm_source') }}), '')) as utm_source,
        coalesce(utm_medium_column, nullif(trim({{ url_param('page_url', 'utm_medium') }}), '')) as utm_medium,
        coalesce(utm_campaign_column, nullif(trim({{ url_param('page_url', 'utm_campaign') }}), '')) as utm_campaign,
        coalesce(utm_content_column, nullif(trim({{ url_param('page_url', 'utm_content') }}), '')) as utm_content,
        coalesce(utm_term_column, nullif(trim({{ url_param('page_url', 'utm_term') }}), '')) as utm_term,
        content_id,
        _source_file,
        _row_number,
        _loaded_at,
        _run_id
    from cleaned

)

select * from parsed
