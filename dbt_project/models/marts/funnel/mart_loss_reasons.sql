-- One row per loss reason × source channel × campaign × deal owner × product: lost deals and lost value (base
-- currency) with their share of all lost deals and value. Channel and campaign are the deal's lead's CRM source.
with

deals as (

    select deal_id, lead_id, loss_reason, owner, product, amount_base
    from {{ ref('int_deals_valued') }}
    where outcome = 'lost'

),

leads as (

    select lead_id, source_channel, source_campaign from {{ ref('stg_crm__leads') }}
    where {{ not_quarantined('leads', 'lead_id') }}

),

summarised as (

    select
        deals.loss_reason,
        leads.source_channel,
        leads.source_campaign,
        deals.owner,
        deals.product,
        count(*) as lost_deals,
        sum(case when deals.amount_base is null then 1 else 0 end) as lost_deals_without_value,
        {{ exact_sum('deals.amount_base') }} as lost_value
    from deals
    left join leads on deals.lead_id = leads.lead_id
    group by deals.loss_reason, leads.source_channel, leads.source_campaign, deals.owner, deals.product

),

totals as (

    select sum(lost_deals) as all_lost_deals, {{ exact_sum('lost_value') }} as all_lost_value from summarised

),

final as (

    select
        {{ surrogate_key(['loss_reason', 'source_channel', 'source_campaign', 'owner', 'product']) }} as loss_key,
        summarised.loss_reason,
        summarised.source_channel,
        summarised.source_campaign,
        summarised.owner,
        summarised.product,
        cast(summarised.lost_deals as bigint) as lost_deals,
        cast(summarised.lost_deals_without_value as bigint) as lost_deals_without_value,
        summarised.lost_value,
        cast(summarised.lost_deals * 1.0 / totals.all_lost_deals as {{ type_double() }}) as share_of_lost_deals,
        cast(
            case
                when totals.all_lost_value > 0 then summarised.lost_value / totals.all_lost_value
            end as {{ type_double() }}
        )
            as share_of_lost_value
    from summarised
    cross join totals

)

select * from final
