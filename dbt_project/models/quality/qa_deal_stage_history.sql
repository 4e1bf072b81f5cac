-- Every staged deal stage change with the values and flags the gate's rules read.
with

history as (

    select * from {{ ref('stg_crm__deal_stage_history') }}

),

deals as (

    select distinct deal_id from {{ ref('stg_crm__deals') }}

),

final as (

    select
        {{ composite_key(['history.deal_id', 'history.stage', 'history.entered_at']) }} as record_key,
        history.deal_id,
        history.stage,
        history.entered_at,
        (history.deal_id is not null and deals.deal_id is null) as has_unknown_deal
    from history
    left join deals on history.deal_id = deals.deal_id

)

select * from final
