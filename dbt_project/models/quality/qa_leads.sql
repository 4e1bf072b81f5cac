-- Every staged lead (its current version) with the values and flags the gate's rules read.
with

leads as (

    select * from {{ ref('stg_crm__leads') }}

),

conflicting as (

    {{ conflicting_versions(source('crm', 'leads'), 'lead_id', 'updated_at') }}

),

final as (

    select
        {{ record_key('leads.lead_id', 'leads') }} as record_key,
        leads.lead_id,
        leads.created_at,
        leads.source_channel,
        leads.source_campaign,
        leads.source_detail,
        leads.first_contact_at,
        leads.product_interest,
        leads.segment,
        leads.region,
        leads.owner,
        leads.lifecycle_stage,
        (leads.email is null and leads.phone is null) as lacks_contact,
        leads.has_invalid_email,
        leads.has_invalid_phone,
        (leads.first_contact_at > leads.created_at) as is_first_contact_after_creation,
        (conflicting.record_key is not null) as is_conflicting_duplicate
    from leads
    left join conflicting on leads.lead_id = conflicting.record_key

)

select * from final
