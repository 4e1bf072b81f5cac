-- Every staged sales activity with the values and flags the gate's rules read.
with

activities as (

    select * from {{ ref('stg_crm__activities') }}

),

leads as (

    select distinct lead_id from {{ ref('stg_crm__leads') }}

),

conflicting as (

    {{ conflicting_versions(source('crm', 'activities'), 'activity_id') }}

),

final as (

    select
        {{ record_key('activities.activity_id', 'activities') }} as record_key,
        activities.activity_id,
        activities.lead_id,
        activities.occurred_at,
        activities.activity_type,
        activities.outcome,
        activities.owner,
        (activities.lead_id is not null and leads.lead_id is null) as has_unknown_lead,
        (conflicting.record_key is not null) as is_conflicting_duplicate
    from activities
    left join leads on activities.lead_id = leads.lead_id
    left join conflicting on activities.activity_id = conflicting.record_key

)

select * from final
