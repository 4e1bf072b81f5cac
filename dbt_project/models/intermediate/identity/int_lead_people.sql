-- One row per lead with its person (docs/identity.md: the lead_id → person_id mapping of merged duplicates). The
-- person's leads are numbered by creation (ties by lead_id); every lead after the first is a merged duplicate.
with

leads as (

    select lead_id, created_at from {{ ref('stg_crm__leads') }}

),

identity_people as (

    select identifier, person_id from {{ source('identity', 'identity_people') }}

),

-- an inner join: quarantined leads have no identifier, so they have no person and no row here
leads_matched as (

    select
        leads.lead_id,
        identity_people.person_id,
        leads.created_at
    from leads
    inner join identity_people on identity_people.identifier = {{ identifier('lead', 'leads.lead_id') }}

),

leads_numbered as (

    select
        lead_id,
        person_id,
        created_at,
        row_number()
            over (partition by person_id order by created_at asc nulls last, lead_id asc)
            as person_lead_number,
        count(*) over (partition by person_id) as person_lead_count
    from leads_matched

),

final as (

    select
        lead_id,
        person_id,
        created_at,
        person_lead_number,
        person_lead_count,
        person_lead_number > 1 as is_merged_duplicate
    from leads_numbered

)

select * from final
