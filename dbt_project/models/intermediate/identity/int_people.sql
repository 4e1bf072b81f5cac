{#- Furthest first. disqualified and recycled are exits, not steps: they count only when none of the person's
    leads is at a funnel stage; recycled (handed back to marketing, still marketable) outranks disqualified. #}
{% set stages_furthest_first = [
    'customer', 'opportunity', 'sql', 'mql', 'nurture', 'working', 'new', 'recycled', 'disqualified'
] %}
-- One row per person (docs/identity.md), with the merge rules applied over the person's leads (survivorship):
-- original source from the earliest lead, latest source, owner and consent from the newest, first contact from
-- leads and touchpoints, and the furthest lifecycle stage reached.
with

identity_people as (

    select identifier, person_id from {{ source('identity', 'identity_people') }}

),

identity_hashes as (

    select person_id, email_hash, phone_hash from {{ source('identity', 'identity_hashes') }}

),

lead_people as (

    select lead_id, person_id, person_lead_number from {{ ref('int_lead_people') }}

),

leads as (

    select * from {{ ref('stg_crm__leads') }}

),

touchpoint_people as (

    select person_id, occurred_at from {{ ref('int_touchpoint_people') }}

),

person_leads as (

    select
        lead_people.person_id,
        lead_people.person_lead_number,
        row_number() over (
            partition by lead_people.person_id order by leads.created_at desc nulls last, leads.lead_id desc
        ) as newest_first,
        case leads.lifecycle_stage
            {%- for stage in stages_furthest_first %}
                when '{{ stage }}' then {{ stages_furthest_first | length - loop.index0 }}
            {%- endfor %}
        end as lifecycle_stage_rank,
        leads.lead_id,
        leads.source_channel,
        leads.source_campaign,
        leads.source_detail,
        leads.first_contact_at,
        leads.owner,
        leads.has_marketing_consent,
        leads.consent_at
    from lead_people
    inner join leads on lead_people.lead_id = leads.lead_id

),

-- one pass over every person's identifiers, touches and leads (a join of millions of people per part costs more):
-- which kinds of identifier they have, and first contact, the earliest of the leads' first_contact_at and the
-- touches; only the people identity resolution knows
person_rows as (

    select
        person_id,
        1 as is_resolved,
        case when identifier like 'email:%' then 1 else 0 end as is_email,
        case when identifier like 'phone:%' then 1 else 0 end as is_phone,
        cast(null as {{ dbt.type_timestamp() }}) as contact_at
    from identity_people
    union all
    select person_id, 0 as is_resolved, 0 as is_email, 0 as is_phone, occurred_at as contact_at from touchpoint_people
    union all
    select person_id, 0 as is_resolved, 0 as is_email, 0 as is_phone, first_contact_at as contact_at
    from person_leads

),

people_summarised as (

    select
        person_id,
        max(is_email) = 1 as has_email,
        max(is_phone) = 1 as has_phone,
        min(contact_at) as first_contact_at
    from person_rows
    group by person_id
    having max(is_resolved) = 1

),

leads_summarised as (

    select
        person_id,
        count(*) as lead_count,
        max(lifecycle_stage_rank) as furthest_stage_rank
    from person_leads
    group by person_id

),

-- the merge rules over each person's leads, joined among the people with a lead before they meet everyone
lead_facts as (

    select
        leads_summarised.person_id,
        leads_summarised.lead_count,
        leads_summarised.furthest_stage_rank,
        earliest_leads.source_channel as original_source_channel,
        earliest_leads.source_campaign as original_source_campaign,
        earliest_leads.source_detail as original_source_detail,
        newest_leads.source_channel as latest_source_channel,
        newest_leads.source_campaign as latest_source_campaign,
        newest_leads.source_detail as latest_source_detail,
        newest_leads.owner,
        newest_leads.has_marketing_consent,
        newest_leads.consent_at,
        earliest_leads.lead_id as first_lead_id
    from leads_summarised
    left join person_leads as earliest_leads
        on leads_summarised.person_id = earliest_leads.person_id and earliest_leads.person_lead_number = 1
    left join person_leads as newest_leads
        on leads_summarised.person_id = newest_leads.person_id and newest_leads.newest_first = 1

),

final as (

    select
        people.person_id,
        identity_hashes.email_hash,
        identity_hashes.phone_hash,
        lead_facts.original_source_channel,
        lead_facts.original_source_campaign,
        lead_facts.original_source_detail,
        lead_facts.latest_source_channel,
        lead_facts.latest_source_campaign,
        lead_facts.latest_source_detail,
        people.first_contact_at,
        case lead_facts.furthest_stage_rank
            {%- for stage in stages_furthest_first %}
                when {{ stages_furthest_first | length - loop.index0 }} then '{{ stage }}'
            {%- endfor %}
        end as lifecycle_stage,
        lead_facts.owner,
        lead_facts.has_marketing_consent,
        lead_facts.consent_at,
        lead_facts.first_lead_id,
        coalesce(lead_facts.lead_count, 0) as lead_count,
        people.has_email,
        people.has_phone,
        (lead_facts.lead_count is null and not people.has_email and not people.has_phone) as is_anonymous
    from people_summarised as people
    left join identity_hashes on people.person_id = identity_hashes.person_id
    left join lead_facts on people.person_id = lead_facts.person_id

)

select * from final
