-- One row per conversion: a deal's opportunity creation, and its win or loss, valued in the base currency.
with

deals as (

    select * from {{ ref('int_deals_valued') }}

),

leads as (

    select lead_id, source_channel, source_campaign from {{ ref('stg_crm__leads') }}

),

opportunities as (

    select deal_id, lead_id, 'opportunity_created' as conversion_type, created_at as converted_at, amount,
        currency, amount_base as value
    from deals
    where created_at is not null

),

closed as (

    select deal_id, lead_id, {{ dbt.concat(["'deal_'", 'outcome']) }} as conversion_type, closed_at as converted_at, amount,
        currency, amount_base as value
    from deals
    where outcome in ('won', 'lost') and closed_at is not null

),

conversions as (

    select * from opportunities
    union all
    select * from closed

),

final as (

    select
        {{ surrogate_key(['conversions.conversion_type', 'conversions.deal_id']) }} as conversion_id,
        conversions.conversion_type,
        conversions.deal_id,
        conversions.lead_id,
        conversions.converted_at,
        conversions.value,
        conversions.amount,
        conversions.currency,
        leads.source_channel,
        leads.source_campaign
    from conversions
    left join leads on conversions.lead_id = leads.lead_id

)

select * from final
