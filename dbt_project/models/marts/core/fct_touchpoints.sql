{{
    config(
        materialized=incremental_where_supported(),
        unique_key='touchpoint_id',
        incremental_strategy='delete+insert',
        on_schema_change='append_new_columns',
        post_hook="{{ delete_quarantined('touchpoints', 'touchpoint_id') }}",
    )
}}
-- One row per touchpoint: when, what, which channel and campaign. No raw email or phone (privacy, docs/privacy.md).
with

touchpoints as (

    select * from {{ ref('int_touchpoints_classified') }}
    {% if is_incremental() %}
    where _loaded_at > (select max(loaded_at) from {{ this }})
    {% endif %}

),

final as (

    select
        touchpoint_id,
        occurred_at,
        touchpoint_type,
        channel,
        utm_source,
        utm_medium,
        utm_campaign,
        utm_content,
        utm_term,
        content_id,
        page_path,
        referrer_host,
        anonymous_id,
        email is not null as has_email,
        phone is not null as has_phone,
        _loaded_at as loaded_at
    from touchpoints

)

select * from final
