-- One row per lead (key lead_id): the lead's score, MQL flag and moment, intent tier, handoff readiness at the
-- handoff and SLA outcome, for BI to list and filter leads (int_leads_scored, mart_lead_sla).
with

scored as (

    select * from {{ ref('int_leads_scored') }}

),

sla as (

    select lead_id, sla_owner, first_response_status, attempts_status, sla_status, is_recycled, recycle_reason
    from {{ ref('mart_lead_sla') }}

),

final as (

    select
        scored.lead_id,
        scored.person_id,
        scored.is_merged_duplicate,
        scored.created_at,
        scored.owner,
        scored.source_channel,
        scored.source_campaign,
        scored.lifecycle_stage,
        cast(scored.lead_score as bigint) as lead_score,
        cast(scored.score_at_creation as bigint) as score_at_creation,
        scored.mql_at is not null as is_mql,
        scored.mql_at,
        scored.intent_tier,
        scored.handoff_at,
        scored.handoff_readiness,
        sla.sla_owner,
        sla.first_response_status,
        sla.attempts_status,
        sla.sla_status,
        sla.is_recycled,
        sla.recycle_reason
    from scored
    left join sla on scored.lead_id = sla.lead_id

)

select * from final
