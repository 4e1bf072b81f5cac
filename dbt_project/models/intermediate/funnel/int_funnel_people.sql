{%- set open_stages = ['presentation', 'proposal', 'negotiation'] -%}
-- One row per person with a lead (keyed by their first lead; a lead whose person is unknown counts on its own):
-- how far the person got in the funnel (docs/metrics.md *Funnel and speed-to-lead*) and when. A merged duplicate lead does not enter the funnel
-- again: its score, lifecycle stage and deals count for its person. The dimensions are the first lead's.
--   mql: the lead score reached the threshold (int_leads_scored.mql_at) or the CRM lifecycle stage is mql or later
--   sql: the CRM lifecycle stage is sql, opportunity or customer (the CRM export carries no date for it)
--   opportunity: a deal; presentation / proposal / negotiation: a deal reached the stage (stage history or
--   snapshot, or a later stage); won: a won deal. Every stage implies the ones before it.
with

leads as (

    select * from {{ ref('int_leads_scored') }}

),

deals as (

    select deal_id, lead_id, created_at, closed_at, outcome from {{ ref('int_deals_valued') }}

),

stage_entries as (

    select deal_id, stage, stage_order, entered_at from {{ ref('int_deal_stage_entries') }}

),

people as (

    select person_id, first_contact_at from {{ ref('int_people') }}

),

leads_keyed as (

    select
        lead_id,
        person_id,
        coalesce(person_id, lead_id) as entity_key,
        created_at,
        owner,
        source_channel,
        source_campaign,
        intent_tier,
        first_contact_at,
        mql_at,
        case lifecycle_stage when 'mql' then 1 when 'sql' then 2 when 'opportunity' then 3 when 'customer' then 4 else 0 end
            as lifecycle_rank,
        row_number() over (
            partition by coalesce(person_id, lead_id) order by created_at asc nulls last, lead_id asc
        ) as entity_lead_number
    from leads

),

entity_leads as (

    select
        entity_key,
        count(*) as lead_count,
        min(mql_at) as mql_at,
        max(lifecycle_rank) as lifecycle_rank,
        min(first_contact_at) as crm_first_contact_at
    from leads_keyed
    group by entity_key

),

deal_stages as (

    select
        deal_id,
        max(case when stage_order <= 5 then stage_order end) as furthest_stage_order,
        {%- for stage in open_stages %}
        min(case when stage = '{{ stage }}' then entered_at end) as {{ stage }}_at{{ ',' if not loop.last }}
        {%- endfor %}
    from stage_entries
    group by deal_id

),

entity_deals as (

    select
        leads_keyed.entity_key,
        count(*) as deal_count,
        min(deals.created_at) as opportunity_at,
        {%- for stage in open_stages %}
        max(case when deals.outcome = 'won' or deal_stages.furthest_stage_order >= {{ loop.index + 1 }} then 1 else 0 end)
            as reached_{{ stage }},
        min(deal_stages.{{ stage }}_at) as {{ stage }}_at,
        {%- endfor %}
        max(case when deals.outcome = 'won' then 1 else 0 end) as reached_won,
        min(case when deals.outcome = 'won' then deals.closed_at end) as won_at,
        min(case when deals.outcome in ('won', 'lost') then deals.closed_at end) as closed_at
    from deals
    inner join leads_keyed on deals.lead_id = leads_keyed.lead_id
    left join deal_stages on deals.deal_id = deal_stages.deal_id
    group by leads_keyed.entity_key

),

reached as (

    select
        first_leads.lead_id,
        first_leads.person_id,
        first_leads.created_at as lead_created_at,
        cast({{ dbt.date_trunc('month', 'first_leads.created_at') }} as date) as lead_created_month,
        first_leads.source_channel,
        first_leads.source_campaign,
        first_leads.owner,
        first_leads.intent_tier,
        entity_leads.lead_count,
        coalesce(entity_deals.deal_count, 0) as deal_count,
        coalesce(people.first_contact_at, entity_leads.crm_first_contact_at) as first_touch_at,
        entity_leads.mql_at,
        entity_deals.opportunity_at,
        entity_deals.presentation_at,
        entity_deals.proposal_at,
        entity_deals.negotiation_at,
        entity_deals.won_at,
        entity_deals.closed_at,
        entity_deals.deal_count is not null as is_opportunity,
        (entity_deals.deal_count is not null or entity_leads.lifecycle_rank >= 2) as is_sql,
        (entity_deals.deal_count is not null or entity_leads.lifecycle_rank >= 1 or entity_leads.mql_at is not null)
            as is_mql,
        coalesce(entity_deals.reached_presentation = 1, false) as is_presentation,
        coalesce(entity_deals.reached_proposal = 1, false) as is_proposal,
        coalesce(entity_deals.reached_negotiation = 1, false) as is_negotiation,
        coalesce(entity_deals.reached_won = 1, false) as is_won
    from leads_keyed as first_leads
    inner join entity_leads on first_leads.entity_key = entity_leads.entity_key
    left join entity_deals on first_leads.entity_key = entity_deals.entity_key
    left join people on first_leads.person_id = people.person_id
    where first_leads.entity_lead_number = 1

),

final as (

    select * from reached

)

select * from final
