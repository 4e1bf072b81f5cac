-- One row per spend date × campaign (utm source, medium, campaign) with its channel and the spend in the base
-- currency. Spend always carries UTMs and no referrer, so it is grouped by the same rules as touchpoints.
with

spend as (

    select * from {{ ref('stg_ads__ad_spend') }}
    where {{ not_quarantined('ad_spend', composite_key(['spend_date', 'utm_source', 'utm_medium', 'utm_campaign'])) }}

),

keyed as (

    select
        spend.*,
        coalesce(spend.utm_source, '') as source_key,
        coalesce(spend.utm_medium, '') as medium_key,
        true as has_utm,
        'none' as referrer_class,
        '' as type_key
    from spend

),

channel_keys as (

    select distinct source_key, medium_key, has_utm, referrer_class, type_key from keyed

),

channels as (

    {{ channel_rules_matched('channel_keys') }}

),

final as (

    select
        keyed.spend_date,
        keyed.utm_source,
        keyed.utm_medium,
        keyed.utm_campaign,
        coalesce(channels.channel, 'other') as channel,
        keyed.spend,
        keyed.currency,
        {{ base_amount('keyed.spend', 'keyed.currency') }} as spend_base,
        keyed.impressions,
        keyed.clicks
    from keyed
    left join channels
        on
            keyed.source_key = channels.source_key
            and keyed.medium_key = channels.medium_key
    {{ fx_join('keyed.currency', 'keyed.spend_date') }}

)

select * from final
