-- One row: the point the funnel's "now" refers to, the latest time seen in the delivered data (leads, touchpoints,
-- sales activities, deals). The lead score counts the touches of the window before it; SLAs whose deadline is
-- after it are still pending. The data's own end, not the clock: a rebuild of the same data gives the same marts.
with

leads as (

    select created_at from {{ ref('stg_crm__leads') }}
    where {{ not_quarantined('leads', 'lead_id') }}

),

touchpoint_people as (

    select occurred_at from {{ ref('int_touchpoint_people') }}

),

activities as (

    select occurred_at from {{ ref('stg_crm__activities') }}
    where {{ not_quarantined('activities', 'activity_id') }}

),

deals as (

    select created_at, closed_at from {{ ref('int_deals_valued') }}

),

latest as (

    select max(created_at) as seen_at from leads
    union all
    select max(occurred_at) from touchpoint_people
    union all
    select max(occurred_at) from activities
    union all
    select max(created_at) from deals
    union all
    select max(closed_at) from deals

),

final as (

    select max(seen_at) as as_of_at from latest

)

select * from final
