{{
    config(
        materialized=incremental_where_supported(),
        unique_key='touchpoint_id',
        incremental_strategy='delete+insert',
        on_schema_change='append_new_columns',
        post_hook="{{ delete_quarantined('touchpoints', 'touchpoint_id') }}",
    )
}}
-- One row per touchpoint_id with its channel. Incremental: each run reads only the rows loaded since the last
-- run (late data included, since the filter is on load time), keeps the newest delivery of each id and
-- replaces the older version if the id was seen before.
with

touchpoints as (

    select * from {{ ref('stg_web__touchpoints') }}
    where {{ not_quarantined('touchpoints', 'touchpoint_id') }}
    {% if is_incremental() %}
        and _loaded_at > (select max(_loaded_at) from {{ this }})
    {% endif %}

),

deduplicated as (

    {{ latest_version('touchpoints', 'touchpoint_id', '_loaded_at desc, _source_file desc, _row_number desc') }}

),

keyed as (

    select
        deduplicated.*,
        coalesce(deduplicated.utm_source, '') as source_key,
        coalesce(deduplicated.utm_medium, '') as medium_key,
        coalesce(deduplicated.touchpoint_type, '') as type_key,
        coalesce(deduplicated.page_host, '') as page_host_key,
        (
            deduplicated.utm_source is not null
            or deduplicated.utm_medium is not null
            or deduplicated.utm_campaign is not null
        ) as has_utm
    from deduplicated

),

referrer_hosts as (

    select distinct referrer_host, page_host_key as page_host from keyed
    where referrer_host is not null

),

referrers_classified as (

    {{ referrer_classes('referrer_hosts') }}

),

with_referrer_class as (

    select
        keyed.*,
        coalesce(referrers_classified.referrer_class, 'none') as referrer_class
    from keyed
    left join referrers_classified
        on
            keyed.referrer_host = referrers_classified.referrer_host
            and keyed.page_host_key = referrers_classified.page_host

),

channel_keys as (

    select distinct source_key, medium_key, has_utm, referrer_class, type_key from with_referrer_class

),

channels as (

    {{ channel_rules_matched('channel_keys') }}

),

final as (

    select
        touches.touchpoint_id,
        touches.occurred_at,
        touches.anonymous_id,
        touches.email,
        touches.phone,
        touches.touchpoint_type,
        touches.page_url,
        touches.page_host,
        touches.page_path,
        touches.referrer_url,
        touches.referrer_host,
        touches.referrer_class,
        touches.utm_source,
        touches.utm_medium,
        touches.utm_campaign,
        touches.utm_content,
        touches.utm_term,
        touches.content_id,
        coalesce(channels.channel, 'other') as channel,
        touches._source_file,
        touches._loaded_at
    from with_referrer_class as touches
    left join channels
        on
            touches.source_key = channels.source_key
            and touches.medium_key = channels.medium_key
            and touches.has_utm = channels.has_utm
            and touches.referrer_class = channels.referrer_class
            and touches.type_key = channels.type_key

)

select * from final
