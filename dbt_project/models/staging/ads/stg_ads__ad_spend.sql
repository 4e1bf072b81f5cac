-- One row per spend date × utm_source × utm_medium × utm_campaign (the latest delivery wins), in the
-- delivered currency.
with

source as (

    select * from {{ source('ads', 'ad_spend') }}

),

cleaned as (

    select
        {{ to_date('spend_date') }} as spend_date,
        {{ clean_text('utm_source') }} as utm_source,
        {{ clean_text('utm_medium') }} as utm_medium,
        {{ clean_text('utm_campaign') }} as utm_campaign,
        {{ to_number('spend') }} as spend,
        upper(trim(currency)) as currency,
        {{ to_integer("impressions") }} as impressions,
        {{ to_integer("clicks") }} as clicks,
        _source_file,
        _row_number,
        _loaded_at
    from source

),

latest as (

    {{ latest_version(
        'cleaned',
        'spend_date, utm_source, utm_medium, utm_campaign',
        '_loaded_at desc, _source_file desc, _row_number desc'
    ) }}

),

final as (

    select
        spend_date, utm_source, utm_medium, utm_campaign, spend, currency, impressions, clicks,
        _source_file, _row_number, _loaded_at
    from latest

)

select * from final
