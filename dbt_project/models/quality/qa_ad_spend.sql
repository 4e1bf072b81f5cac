-- Every staged ad spend row (one per day and campaign) with the values and flags the gate's rules read.
with

spend as (

    select * from {{ ref('stg_ads__ad_spend') }}

),

final as (

    select
        {{ composite_key(
            ['spend.spend_date', 'spend.utm_source', 'spend.utm_medium', 'spend.utm_campaign']
        ) }} as record_key,
        spend.spend_date,
        spend.utm_source,
        spend.utm_medium,
        spend.utm_campaign,
        spend.spend,
        spend.currency,
        {{ lacks_fx_rate('spend.currency', 'spend.spend_date') }} as lacks_fx_rate
    from spend

)

select * from final
