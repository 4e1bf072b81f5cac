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
-- Built for tens of millions of rows: the wide rows are read once, in one pass. Which delivery of a repeated id
-- loses is decided on the narrow columns that order them, and the channel comes from the small key table
-- int_touchpoint_channel_keys.
{%- set batch_filter -%}
    {% if is_incremental() %}_loaded_at > (select max(_loaded_at) from {{ this }}){% else %}1 = 1{% endif %}
{%- endset %}
with

versions as (

    select touchpoint_id, _loaded_at, _source_file, _row_number
    from {{ ref('stg_web__touchpoints') }}
    where touchpoint_id is not null and {{ batch_filter }}

),

-- the older deliveries of ids delivered more than once: rare, so only they are ranked
superseded as (

    {{ superseded_versions('versions', 'touchpoint_id', '_loaded_at desc, _source_file desc, _row_number desc') }}

),

touchpoints as (

    select touchpoints.*
    from {{ ref('stg_web__touchpoints') }} as touchpoints
    where
        {{ not_quarantined('touchpoints', 'touchpoints.touchpoint_id') }}
        and {{ batch_filter }}
        and {{ not_superseded('superseded', 'touchpoints', 'touchpoint_id, _loaded_at, _source_file, _row_number') }}

),

channel_keys as (

    select
        referrer_host_key, page_host_key, source_key, medium_key, has_utm, type_key, referrer_class, channel
    from {{ ref('int_touchpoint_channel_keys') }}

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
        coalesce(channel_keys.referrer_class, 'none') as referrer_class,
        touches.utm_source,
        touches.utm_medium,
        touches.utm_campaign,
        touches.utm_content,
        touches.utm_term,
        touches.content_id,
        coalesce(channel_keys.channel, 'other') as channel,
        touches._source_file,
        touches._loaded_at
    from touchpoints as touches
    left join channel_keys
        on
            coalesce(touches.referrer_host, '') = channel_keys.referrer_host_key
            and coalesce(touches.page_host, '') = channel_keys.page_host_key
            and coalesce(touches.utm_source, '') = channel_keys.source_key
            and coalesce(touches.utm_medium, '') = channel_keys.medium_key
            and (
                touches.utm_source is not null
                or touches.utm_medium is not null
                or touches.utm_campaign is not null
            ) = channel_keys.has_utm
            and coalesce(touches.touchpoint_type, '') = channel_keys.type_key

)

select * from final
