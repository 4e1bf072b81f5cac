{{
    config(
        materialized=incremental_where_supported(),
        unique_key=['referrer_host_key', 'page_host_key', 'source_key', 'medium_key', 'has_utm', 'type_key'],
        incremental_strategy='delete+insert',
    )
}}
-- One row per distinct classification key of the touchpoints (referrer and page host, UTM source and medium, whether
-- any UTM is set, touchpoint type) with its referrer class and channel. The rules run once per key, and
-- int_touchpoints_classified joins this small table back to every touch: as a table of its own, every engine knows
-- it is small and builds the join on it. Keys are '' rather than null so the join back is plain equality.
-- Incremental: the keys of the rows loaded since the last run; seen again, a key is classified again.
with

touchpoints as (

    select referrer_host, page_host, utm_source, utm_medium, utm_campaign, touchpoint_type, _loaded_at
    from {{ ref('stg_web__touchpoints') }}
    {% if is_incremental() %}
        where _loaded_at > (select max(last_loaded_at) from {{ this }})
    {% endif %}

),

keys as (

    select
        coalesce(referrer_host, '') as referrer_host_key,
        coalesce(page_host, '') as page_host_key,
        coalesce(utm_source, '') as source_key,
        coalesce(utm_medium, '') as medium_key,
        (utm_source is not null or utm_medium is not null or utm_campaign is not null) as has_utm,
        coalesce(touchpoint_type, '') as type_key,
        max(_loaded_at) as last_loaded_at
    from touchpoints
    group by 1, 2, 3, 4, 5, 6

),

referrer_hosts as (

    select distinct referrer_host_key as referrer_host, page_host_key as page_host from keys
    where referrer_host_key <> ''

),

referrers_classified as (

    {{ referrer_classes('referrer_hosts') }}

),

keys_with_referrer_class as (

    select
        keys.*,
        coalesce(referrers_classified.referrer_class, 'none') as referrer_class
    from keys
    left join referrers_classified
        on
            keys.referrer_host_key = referrers_classified.referrer_host
            and keys.page_host_key = referrers_classified.page_host

),

channel_keys as (

    select distinct source_key, medium_key, has_utm, referrer_class, type_key from keys_with_referrer_class

),

channels as (

    {{ channel_rules_matched('channel_keys') }}

),

final as (

    select
        keys.referrer_host_key,
        keys.page_host_key,
        keys.source_key,
        keys.medium_key,
        keys.has_utm,
        keys.type_key,
        keys.referrer_class,
        coalesce(channels.channel, 'other') as channel,
        keys.last_loaded_at
    from keys_with_referrer_class as keys
    left join channels
        on
            keys.source_key = channels.source_key
            and keys.medium_key = channels.medium_key
            and keys.has_utm = channels.has_utm
            and keys.referrer_class = channels.referrer_class
            and keys.type_key = channels.type_key

)

select * from final
