{#- Furthest first. disqualified and recycled are exits, not steps: they count only when none of the person's
    leads is at a funnel stage; recycled (handed back to marketing, still marketable) outranks disqualified. #}
{% set stages_furthest_first = ['customer', 'opportunity', 'sql', 'mql', 'nurture', 'working', 'new', 'recycled', 'disqualified'] %}
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

people_identified as (

    select
        person_id,
        max(case when identifier like 'email:%' then 1 else 0 end) = 1 as has_email,
        max(case when identifier like 'phone:%' then 1 else 0 end) = 1 as has_phone
    from identity_people
    group by person_id

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

earliest_leads as (

    select * from person_leads where person_lead_number = 1

),

newest_leads as (

    select * from person_leads where newest_first = 1

),

leads_summarised as (

    select
        person_id,
        count(*) as lead_count,
        max(lifecycle_stage_rank) as furthest_stage_rank
    from person_leads
    group by person_id

),

-- first contact: the earliest of the leads' first_contact_at and the person's touchpoints
contacts as (

    select person_id, first_contact_at as contact_at from person_leads
    union all
    select person_id, occurred_at from touchpoint_people

),

first_contacts as (

    select person_id, min(contact_at) as first_contact_at
    from contacts
    group by person_id

),

final as (

    select
        people.person_id,
        identity_hashes.email_hash,
        identity_hashes.phone_hash,
        earliest_leads.source_channel as original_source_channel,
        earliest_leads.source_campaign as original_source_campaign,
        earliest_leads.source_detail as original_source_detail,
        newest_leads.source_channel as latest_source_channel,
        newest_leads.source_campaign as latest_source_campaign,
        newest_leads.source_detail as latest_source_detail,
        first_contacts.first_contact_at,
        case leads_summarised.furthest_stage_rank
            {%- for stage in stages_furthest_first %}
            when {{ stages_furthest_first | length - loop.index0 }} then '{{ stage }}'
            {%- endfor %}
        end as lifecycle_stage,
        newest_leads.owner,
        newest_leads.has_marketing_consent,
        newest_leads.consent_at,
        earliest_leads.lead_id as first_lead_id,
        coalesce(leads_summarised.lead_count, 0) as lead_count,
        people.has_email,
        people.has_phone,
        (leads_summarised.lead_count is null and not people.has_email and not people.has_phone) as is_anonymous
    from people_identified as people
    left join identity_hashes on people.person_id = identity_hashes.person_id
    left join earliest_leads on people.person_id = earliest_leads.person_id
    left join newest_leads on people.person_id = newest_leads.person_id
    left join leads_summarised on people.person_id = leads_summarised.person_id
    left join first_contacts on people.person_id = first_contacts.person_id

)

select * from final
