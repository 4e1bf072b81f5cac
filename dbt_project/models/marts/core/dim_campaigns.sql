-- One row per campaign (utm_source × utm_medium × utm_campaign) seen in touchpoints or ad spend.
with

touchpoints as (

    select * from {{ ref('fct_touchpoints') }}
    where utm_campaign is not null

),

spend as (

    select * from {{ ref('int_ad_spend_classified') }}
    where utm_campaign is not null

),

touch_campaigns as (

    select
        coalesce(utm_source, '') as source_key,
        coalesce(utm_medium, '') as medium_key,
        utm_campaign,
        min(channel) as channel,
        min(occurred_at) as first_touch_at,
        max(occurred_at) as last_touch_at,
        count(*) as touchpoints
    from touchpoints
    group by 1, 2, 3

),

spend_campaigns as (

    select
        coalesce(utm_source, '') as source_key,
        coalesce(utm_medium, '') as medium_key,
        utm_campaign,
        min(channel) as channel,
        min(spend_date) as first_spend_date,
        max(spend_date) as last_spend_date,
        {{ exact_sum("spend_base") }} as spend
    from spend
    group by 1, 2, 3

),

campaigns as (

    select source_key, medium_key, utm_campaign from touch_campaigns
    union
    select source_key, medium_key, utm_campaign from spend_campaigns

),

final as (

    select
        {{ surrogate_key(['campaigns.source_key', 'campaigns.medium_key', 'campaigns.utm_campaign']) }} as campaign_id,
        nullif(campaigns.source_key, '') as utm_source,
        nullif(campaigns.medium_key, '') as utm_medium,
        campaigns.utm_campaign,
        coalesce(spend_campaigns.channel, touch_campaigns.channel) as channel,
        touch_campaigns.first_touch_at,
        touch_campaigns.last_touch_at,
        coalesce(touch_campaigns.touchpoints, 0) as touchpoints,
        spend_campaigns.first_spend_date,
        spend_campaigns.last_spend_date,
        coalesce(spend_campaigns.spend, 0) as spend
    from campaigns
    left join touch_campaigns
        on
            campaigns.source_key = touch_campaigns.source_key
            and campaigns.medium_key = touch_campaigns.medium_key
            and campaigns.utm_campaign = touch_campaigns.utm_campaign
    left join spend_campaigns
        on
            campaigns.source_key = spend_campaigns.source_key
            and campaigns.medium_key = spend_campaigns.medium_key
            and campaigns.utm_campaign = spend_campaigns.utm_campaign

)

select * from final
