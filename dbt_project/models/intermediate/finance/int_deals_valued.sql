-- One row per deal with its amount in the base currency (rate of the day the deal was created).
with

deals as (

    select * from {{ ref('stg_crm__deals') }}
    where {{ not_quarantined('deals', 'deal_id') }}

),

valued as (

    select
        deals.deal_id,
        deals.lead_id,
        deals.created_at,
        deals.closed_at,
        deals.stage,
        deals.outcome,
        deals.loss_reason,
        deals.product,
        deals.owner,
        deals.amount,
        deals.currency,
        {{ base_amount('deals.amount', 'deals.currency') }} as amount_base
    from deals
    {{ fx_join('deals.currency', 'cast(deals.created_at as date)') }}

)

select * from valued
