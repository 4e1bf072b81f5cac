-- Every staged deal (its current version) with the values and flags the gate's rules read.
with

deals as (

    select * from {{ ref('stg_crm__deals') }}

),

leads as (

    select distinct lead_id from {{ ref('stg_crm__leads') }}

),

conflicting as (

    {{ conflicting_versions(source('crm', 'deals'), 'deal_id', 'updated_at') }}

),

final as (

    select
        {{ record_key('deals.deal_id', 'deals') }} as record_key,
        deals.deal_id,
        deals.lead_id,
        deals.created_at,
        deals.stage,
        deals.amount,
        deals.currency,
        deals.outcome,
        deals.loss_reason,
        deals.owner,
        ((deals.closed_at is null) <> (deals.outcome = 'open')) as is_closed_date_inconsistent,
        (deals.outcome = 'lost' and deals.loss_reason is null) as lacks_loss_reason,
        (deals.closed_at < deals.created_at) as is_closed_before_creation,
        (deals.lead_id is not null and leads.lead_id is null) as has_unknown_lead,
        {{ lacks_fx_rate('deals.currency', 'cast(deals.created_at as date)') }} as lacks_fx_rate,
        (conflicting.record_key is not null) as is_conflicting_duplicate
    from deals
    left join leads on deals.lead_id = leads.lead_id
    left join conflicting on deals.deal_id = conflicting.record_key

)

select * from final
