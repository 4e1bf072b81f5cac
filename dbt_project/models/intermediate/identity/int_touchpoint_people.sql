-- One row per touchpoint that belongs to a person: the person of its cookie, else of its email, else of its phone
-- (all three belong to the same person whenever they are not blocklisted: the touch links them). A touch whose
-- only identifiers are blocklisted belongs to nobody. A table, rebuilt every run: people merge as data arrives,
-- so an old touch can move to another person (fct_touchpoints, incremental, does not carry person_id for that reason).
with

touchpoints as (

    select touchpoint_id, occurred_at, anonymous_id, email, phone
    from {{ ref('int_touchpoints_classified') }}
    where {{ not_quarantined('touchpoints', 'touchpoint_id') }}

),

identity_people as (

    select identifier, person_id from {{ source('identity', 'identity_people') }}

),

touchpoints_matched as (

    select
        touchpoints.touchpoint_id,
        touchpoints.occurred_at,
        coalesce(by_cookie.person_id, by_email.person_id, by_phone.person_id) as person_id
    from touchpoints
    left join identity_people as by_cookie
        on by_cookie.identifier = {{ identifier('anon', 'touchpoints.anonymous_id') }}
    left join identity_people as by_email
        on by_email.identifier = {{ identifier('email', 'touchpoints.email') }}
    left join identity_people as by_phone
        on by_phone.identifier = {{ identifier('phone', 'touchpoints.phone') }}

),

final as (

    select touchpoint_id, person_id, occurred_at
    from touchpoints_matched
    where person_id is not null

)

select * from final
