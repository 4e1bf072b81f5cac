{%- set window_days = int_setting('closedloop__lead_score_window_days') -%}
{%- set threshold = int_setting('closedloop__mql_threshold') -%}
-- One row per lead with its score, MQL moment, intent tier and handoff readiness (docs/metrics.md *Funnel and
-- speed-to-lead*). Touches belong to the lead's person (int_touchpoint_people): a merged duplicate lead sees the same
-- touches as the person's first lead.
--   lead_score: points (seed lead_scoring_points) of the touches in the window (default 90 days) up to the as-of
--     point (int_funnel_as_of, the data's end); score_at_creation: the same, up to the lead's creation.
--   mql_at: the first moment at or after creation when the window's score reached the threshold: the creation
--     itself when score_at_creation did, else the first later touch whose trailing window reached it.
--   intent_tier: the highest-intent touch at or before creation (none: low).
--   handoff_readiness: ready with origin (source channel, campaign and detail), a content interaction and a
--     declared need (declared_need or product_interest); otherwise preparation. Judged at the handoff: handoff_at
--     is the first sales activity on the lead (not before its creation); content touched after it does not count.
--     A lead not handed off yet is judged on its touches up to the as-of point.
with

leads as (

    select
        lead_id, created_at, owner, source_channel, source_campaign, source_detail, first_contact_at,
        product_interest, declared_need, lifecycle_stage
    from {{ ref('stg_crm__leads') }}
    where {{ not_quarantined('leads', 'lead_id') }}

),

-- the handoff to sales: the first sales activity on the lead
first_activities as (

    select lead_id, min(occurred_at) as first_activity_at
    from {{ ref('stg_crm__activities') }}
    where {{ not_quarantined('activities', 'activity_id') }} and occurred_at is not null
    group by lead_id

),

handoffs as (

    select
        leads.lead_id,
        case
            when first_activities.first_activity_at < leads.created_at then leads.created_at
            else first_activities.first_activity_at
        end as handoff_at
    from leads
    inner join first_activities on leads.lead_id = first_activities.lead_id

),

lead_people as (

    select lead_id, person_id, person_lead_number from {{ ref('int_lead_people') }}

),

touchpoint_people as (

    select touchpoint_id, person_id, occurred_at from {{ ref('int_touchpoint_people') }}

),

touchpoints as (

    select touchpoint_id, touchpoint_type, content_id from {{ ref('int_touchpoints_classified') }}

),

scoring as (

    select touchpoint_type, points, intent_tier, is_content_interaction from {{ ref('lead_scoring_points') }}

),

as_of as (

    select as_of_at from {{ ref('int_funnel_as_of') }}

),

lead_persons as (

    select distinct person_id from lead_people

),

-- only the touches of people with a lead are scored
person_touches as (

    select
        touchpoint_people.person_id,
        touchpoint_people.occurred_at,
        coalesce(scoring.points, 0) as points,
        case scoring.intent_tier when 'high' then 3 when 'medium' then 2 else 1 end as intent_rank,
        (coalesce(scoring.is_content_interaction, false) or touchpoints.content_id is not null)
            as is_content_interaction
    from touchpoint_people
    inner join lead_persons on touchpoint_people.person_id = lead_persons.person_id
    inner join touchpoints on touchpoint_people.touchpoint_id = touchpoints.touchpoint_id
    left join scoring on touchpoints.touchpoint_type = scoring.touchpoint_type
    where touchpoint_people.occurred_at is not null

),

-- the score of the window that ends at each touch (touches at the same moment all count)
touches_scored as (

    select
        person_id,
        occurred_at,
        points,
        intent_rank,
        is_content_interaction,
        sum(points) over (
            partition by person_id order by occurred_at
            range between {{ days_interval(window_days) }} preceding and current row
        ) as window_score
    from person_touches

),

leads_touched as (

    select
        leads.lead_id,
        sum(case
            when
                touches.occurred_at <= leads.created_at
                and touches.occurred_at >= {{ dbt.dateadd('day', -window_days, 'leads.created_at') }}
                then touches.points
            else 0
        end) as score_at_creation,
        min(case
            when touches.occurred_at > leads.created_at and touches.window_score >= {{ threshold }}
                then touches.occurred_at
        end) as qualified_after_creation_at,
        sum(case
            when touches.occurred_at >= {{ dbt.dateadd('day', -window_days, 'as_of.as_of_at') }}
                then touches.points
            else 0
        end) as lead_score,
        max(case when touches.occurred_at <= leads.created_at then touches.intent_rank end) as intent_rank,
        max(case
            when
                touches.is_content_interaction
                and touches.occurred_at <= coalesce(handoffs.handoff_at, as_of.as_of_at) then 1
            else 0
        end)
            as has_content_interaction
    from leads
    inner join lead_people on leads.lead_id = lead_people.lead_id
    inner join touches_scored as touches on lead_people.person_id = touches.person_id
    left join handoffs on leads.lead_id = handoffs.lead_id
    cross join as_of
    group by leads.lead_id

),

leads_scored as (

    select
        leads.lead_id,
        lead_people.person_id,
        coalesce(lead_people.person_lead_number > 1, false) as is_merged_duplicate,
        leads.created_at,
        leads.owner,
        leads.source_channel,
        leads.source_campaign,
        leads.source_detail,
        leads.first_contact_at,
        handoffs.handoff_at,
        leads.lifecycle_stage,
        coalesce(leads_touched.lead_score, 0) as lead_score,
        coalesce(leads_touched.score_at_creation, 0) as score_at_creation,
        coalesce(leads_touched.lead_score, 0) >= {{ threshold }} as is_score_qualified,
        case
            when coalesce(leads_touched.score_at_creation, 0) >= {{ threshold }} then leads.created_at
            else leads_touched.qualified_after_creation_at
        end as mql_at,
        case coalesce(leads_touched.intent_rank, 1) when 3 then 'high' when 2 then 'medium' else 'low' end
            as intent_tier,
        (
            leads.source_channel is not null and leads.source_campaign is not null
            and leads.source_detail is not null
        ) as has_origin,
        coalesce(leads_touched.has_content_interaction = 1, false) as has_content_interaction,
        (leads.declared_need is not null or leads.product_interest is not null) as has_declared_need
    from leads
    left join lead_people on leads.lead_id = lead_people.lead_id
    left join leads_touched on leads.lead_id = leads_touched.lead_id
    left join handoffs on leads.lead_id = handoffs.lead_id

),

final as (

    select
        leads_scored.*,
        case
            when
                leads_scored.has_origin and leads_scored.has_content_interaction and leads_scored.has_declared_need
                then 'ready'
            else 'preparation'
        end
            as handoff_readiness
    from leads_scored

)

select * from final
