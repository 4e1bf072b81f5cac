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
-- Everything but lead_score comes from int_lead_touch_scores, which recomputes only the leads whose touches, person
-- or handoff changed; lead_score reads only the touches of the window before the as-of point.
with

leads as (

    select
        lead_id, created_at, owner, source_channel, source_campaign, source_detail, first_contact_at,
        product_interest, declared_need, lifecycle_stage
    from {{ ref('stg_crm__leads') }}
    where {{ not_quarantined('leads', 'lead_id') }}

),

lead_people as (

    select lead_id, person_id, person_lead_number from {{ ref('int_lead_people') }}

),

touch_scores as (

    select
        lead_id, handoff_at, score_at_creation, qualified_after_creation_at, intent_rank, has_content_interaction
    from {{ ref('int_lead_touch_scores') }}

),

as_of as (

    select as_of_at from {{ ref('int_funnel_as_of') }}

),

scoring as (

    select touchpoint_type, points from {{ ref('lead_scoring_points') }}

),

-- the touches of the window before the as-of point
window_touches as (

    select touchpoint_people.person_id, coalesce(scoring.points, 0) as points
    from {{ ref('int_touchpoint_people') }} as touchpoint_people
    cross join as_of
    inner join {{ ref('int_touchpoints_classified') }} as touchpoints
        on touchpoint_people.touchpoint_id = touchpoints.touchpoint_id
    left join scoring on touchpoints.touchpoint_type = scoring.touchpoint_type
    where touchpoint_people.occurred_at >= {{ dbt.dateadd('day', -window_days, 'as_of.as_of_at') }}

),

person_scores as (

    select person_id, sum(points) as lead_score
    from window_touches
    group by person_id

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
        touch_scores.handoff_at,
        leads.lifecycle_stage,
        coalesce(person_scores.lead_score, 0) as lead_score,
        coalesce(touch_scores.score_at_creation, 0) as score_at_creation,
        coalesce(person_scores.lead_score, 0) >= {{ threshold }} as is_score_qualified,
        case
            when coalesce(touch_scores.score_at_creation, 0) >= {{ threshold }} then leads.created_at
            else touch_scores.qualified_after_creation_at
        end as mql_at,
        case coalesce(touch_scores.intent_rank, 1) when 3 then 'high' when 2 then 'medium' else 'low' end
            as intent_tier,
        (
            leads.source_channel is not null and leads.source_campaign is not null
            and leads.source_detail is not null
        ) as has_origin,
        coalesce(touch_scores.has_content_interaction, false) as has_content_interaction,
        (leads.declared_need is not null or leads.product_interest is not null) as has_declared_need
    from leads
    left join lead_people on leads.lead_id = lead_people.lead_id
    left join touch_scores on leads.lead_id = touch_scores.lead_id
    left join person_scores on lead_people.person_id = person_scores.person_id

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
