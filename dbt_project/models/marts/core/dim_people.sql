-- One row per person: merged lead attributes, keyed hashes instead of raw identifiers (no email, phone or name:
-- docs/quality-gate.md), consent carried over.
with

people as (

    select * from {{ ref('int_people') }}

),

final as (

    select
        person_id,
        email_hash,
        phone_hash,
        original_source_channel,
        original_source_campaign,
        original_source_detail,
        latest_source_channel,
        latest_source_campaign,
        latest_source_detail,
        first_contact_at,
        lifecycle_stage,
        owner,
        coalesce(has_marketing_consent, false) as has_marketing_consent,
        consent_at,
        lead_count,
        is_anonymous
    from people

)

select * from final
