{{
    config(
        materialized=incremental_where_supported(),
        unique_key='lead_id',
        incremental_strategy='delete+insert',
        on_schema_change='sync_all_columns',
        post_hook="{{ delete_vanished_leads() }}",
    )
}}
{%- set window_days = int_setting('closedloop__lead_score_window_days') -%}
{%- set threshold = int_setting('closedloop__mql_threshold') -%}
{%- set incremental = is_incremental_with('built_at') %}
-- One row per lead: what its person's touches say about it, apart from the score now (int_leads_scored adds that,
-- since its window moves with the as-of point every night). docs/metrics.md *Funnel and speed-to-lead*:
--   score_at_creation: points of the window (default 90 days) up to the lead's creation;
--   qualified_after_creation_at: the first touch after creation whose trailing window reached the threshold;
--   intent_rank: the highest intent of a touch at or before creation (3 high, 2 medium, 1 low);
--   has_content_interaction: a content touch up to the handoff (the first sales activity, not before creation), or
--     up to the as-of point when not handed off yet — every touch, since the as-of point is the latest touch or later.
-- Incremental: these depend only on the lead (person, creation, handoff), its person's touches and the scoring
-- rules, so a run recomputes only the leads where one of them changed. A person's touches are compared by a
-- signature, as int_person_paths does: count, last touch, newest load and newest assignment (a touch that arrives,
-- leaves or moves to the person changes one of them).
with

leads as (

    select lead_id, created_at from {{ ref('stg_crm__leads') }}
    where {{ not_quarantined('leads', 'lead_id') }}

),

-- the handoff to sales: the first sales activity on the lead
first_activities as (

    select lead_id, min(occurred_at) as first_activity_at
    from {{ ref('stg_crm__activities') }}
    where {{ not_quarantined('activities', 'activity_id') }} and occurred_at is not null
    group by lead_id

),

lead_people as (

    select lead_id, person_id from {{ ref('int_lead_people') }}

),

touchpoints as (

    select touchpoint_id, touchpoint_type, content_id from {{ ref('int_touchpoints_classified') }}

),

scoring as (

    select touchpoint_type, points, intent_tier, is_content_interaction from {{ ref('lead_scoring_points') }}

),

-- the scoring rules as one string: a changed seed or setting recomputes every lead
scoring_rules as (

    select
        {{ dbt.concat([
            ordered_listagg(
                dbt.concat([
                    'touchpoint_type', "':'", 'cast(points as ' ~ dbt.type_string() ~ ')', "':'",
                    "coalesce(intent_tier, '')", "':'",
                    'cast(coalesce(is_content_interaction, false) as ' ~ dbt.type_string() ~ ')'
                ]),
                "','",
                'touchpoint_type'
            ),
            "';window=" ~ window_days ~ ";threshold=" ~ threshold ~ "'"
        ]) }} as scoring_key
    from scoring

),

lead_inputs as (

    select
        leads.lead_id,
        lead_people.person_id,
        leads.created_at,
        case
            when first_activities.first_activity_at < leads.created_at then leads.created_at
            else first_activities.first_activity_at
        end as handoff_at
    from leads
    left join lead_people on leads.lead_id = lead_people.lead_id
    left join first_activities on leads.lead_id = first_activities.lead_id

),

lead_persons as (

    select distinct person_id from lead_inputs
    where person_id is not null

),

-- only the touches of people with a lead count
touch_people as {{ not_materialized() }} (

    select
        touchpoint_people.touchpoint_id,
        touchpoint_people.person_id,
        touchpoint_people.occurred_at,
        touchpoint_people.touch_loaded_at,
        touchpoint_people.person_since
    from {{ ref('int_touchpoint_people') }} as touchpoint_people
    inner join lead_persons on touchpoint_people.person_id = lead_persons.person_id
    where touchpoint_people.occurred_at is not null

),

signatures as (

    select
        person_id,
        count(*) as touch_count,
        max(occurred_at) as last_touch_at,
        max(touch_loaded_at) as last_loaded_at,
        max(person_since) as last_assigned_at
    from touch_people
    group by person_id

),

lead_signatures as (

    select
        lead_inputs.lead_id,
        lead_inputs.person_id,
        lead_inputs.created_at,
        lead_inputs.handoff_at,
        coalesce(signatures.touch_count, 0) as touch_count,
        signatures.last_touch_at,
        signatures.last_loaded_at,
        signatures.last_assigned_at,
        scoring_rules.scoring_key
    from lead_inputs
    left join signatures on lead_inputs.person_id = signatures.person_id
    cross join scoring_rules

),
{% if incremental %}
previous as (

    select
        lead_id, person_id, created_at, handoff_at, touch_count, last_touch_at, last_loaded_at, last_assigned_at,
        scoring_key
    from {{ this }}

),

dirty as (

    select lead_signatures.*
    from lead_signatures
    left join previous on lead_signatures.lead_id = previous.lead_id
    where previous.lead_id is null
        or not {{ null_safe_equals('previous.person_id', 'lead_signatures.person_id') }}
        or not {{ null_safe_equals('previous.created_at', 'lead_signatures.created_at') }}
        or not {{ null_safe_equals('previous.handoff_at', 'lead_signatures.handoff_at') }}
        or previous.touch_count <> lead_signatures.touch_count
        or not {{ null_safe_equals('previous.last_touch_at', 'lead_signatures.last_touch_at') }}
        or not {{ null_safe_equals('previous.last_loaded_at', 'lead_signatures.last_loaded_at') }}
        or not {{ null_safe_equals('previous.last_assigned_at', 'lead_signatures.last_assigned_at') }}
        or not {{ null_safe_equals('previous.scoring_key', 'lead_signatures.scoring_key') }}

),
{% else %}
    dirty as (

        select * from lead_signatures

    ),
{% endif %}
dirty_persons as (

    select distinct person_id from dirty
    where person_id is not null

),

person_touches as (

    select
        touch_people.person_id,
        touch_people.occurred_at,
        coalesce(scoring.points, 0) as points,
        case scoring.intent_tier when 'high' then 3 when 'medium' then 2 else 1 end as intent_rank,
        (coalesce(scoring.is_content_interaction, false) or touchpoints.content_id is not null)
            as is_content_interaction
    from touch_people
    inner join dirty_persons on touch_people.person_id = dirty_persons.person_id
    inner join touchpoints on touch_people.touchpoint_id = touchpoints.touchpoint_id
    left join scoring on touchpoints.touchpoint_type = scoring.touchpoint_type

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
        dirty.lead_id,
        sum(case
            when
                touches.occurred_at <= dirty.created_at
                and touches.occurred_at >= {{ dbt.dateadd('day', -window_days, 'dirty.created_at') }}
                then touches.points
            else 0
        end) as score_at_creation,
        min(case
            when touches.occurred_at > dirty.created_at and touches.window_score >= {{ threshold }}
                then touches.occurred_at
        end) as qualified_after_creation_at,
        max(case when touches.occurred_at <= dirty.created_at then touches.intent_rank end) as intent_rank,
        max(case
            when
                touches.is_content_interaction
                and (dirty.handoff_at is null or touches.occurred_at <= dirty.handoff_at)
                then 1
            else 0
        end) as has_content_interaction
    from dirty
    inner join touches_scored as touches on dirty.person_id = touches.person_id
    group by dirty.lead_id

),

final as (

    select
        dirty.lead_id,
        dirty.person_id,
        dirty.created_at,
        dirty.handoff_at,
        coalesce(leads_touched.score_at_creation, 0) as score_at_creation,
        leads_touched.qualified_after_creation_at,
        coalesce(leads_touched.intent_rank, 1) as intent_rank,
        coalesce(leads_touched.has_content_interaction = 1, false) as has_content_interaction,
        dirty.touch_count,
        dirty.last_touch_at,
        dirty.last_loaded_at,
        dirty.last_assigned_at,
        dirty.scoring_key,
        {{ run_timestamp() }} as built_at
    from dirty
    left join leads_touched on dirty.lead_id = leads_touched.lead_id

)

select * from final
