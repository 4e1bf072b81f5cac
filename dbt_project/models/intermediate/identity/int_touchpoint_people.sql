-- One row per touchpoint that belongs to a person: the person of its cookie, else of its email, else of its phone
-- (all three belong to the same person whenever they are not blocklisted: the touch links them). A touch whose
-- only identifiers are blocklisted belongs to nobody. A table, rebuilt every run: people merge as data arrives,
-- so an old touch can move to another person (fct_touchpoints, incremental, does not carry person_id for that reason).
-- `person_since` is when the touch got its current person (this run, unless the previous build already had the
-- same person): attribution recomputes only the conversions of people whose touches changed.
{%- set has_previous = target.type != 'spark' and has_column(adapter.get_relation(this.database, this.schema, this.identifier), 'person_since') %}
with

touchpoints as {{ not_materialized() }} (

    select touchpoint_id, occurred_at, anonymous_id, email, phone, _loaded_at
    from {{ ref('int_touchpoints_classified') }}
    where {{ not_quarantined('touchpoints', 'touchpoint_id') }}

),

-- the people table split by kind, with the raw value as the join key: joins on plain columns, and the big join
-- (every touch with a cookie, most of them) builds its hash table from cookies only
people_by_cookie as (

    select {{ identifier_value('anon') }} as anonymous_id, person_id
    from {{ source('identity', 'identity_people') }}
    where identifier like 'anon:%'

),

people_by_email as (

    select {{ identifier_value('email') }} as email, person_id
    from {{ source('identity', 'identity_people') }}
    where identifier like 'email:%'

),

people_by_phone as (

    select {{ identifier_value('phone') }} as phone, person_id
    from {{ source('identity', 'identity_people') }}
    where identifier like 'phone:%'

),

-- a cookie is never blocklisted and every cookie of a kept touch is in the people table, so it decides
with_cookie as (

    select touchpoints.touchpoint_id, touchpoints.occurred_at, touchpoints._loaded_at, people_by_cookie.person_id
    from touchpoints
    inner join people_by_cookie on people_by_cookie.anonymous_id = touchpoints.anonymous_id

),

without_cookie as (

    select
        touchpoints.touchpoint_id,
        touchpoints.occurred_at,
        touchpoints._loaded_at,
        coalesce(people_by_email.person_id, people_by_phone.person_id) as person_id
    from touchpoints
    left join people_by_email on people_by_email.email = touchpoints.email
    left join people_by_phone on people_by_phone.phone = touchpoints.phone
    where touchpoints.anonymous_id is null

),

assigned as (

    select touchpoint_id, person_id, occurred_at, _loaded_at from with_cookie
    union all
    select touchpoint_id, person_id, occurred_at, _loaded_at from without_cookie
    where person_id is not null

),

final as (

    select
        assigned.touchpoint_id,
        assigned.person_id,
        assigned.occurred_at,
        assigned._loaded_at as touch_loaded_at,
        {% if has_previous -%}
        case when previous.person_id = assigned.person_id then previous.person_since else {{ run_timestamp() }} end
        {%- else -%}
        {{ run_timestamp() }}
        {%- endif %} as person_since
    from assigned
    {% if has_previous -%}
    left join {{ this }} as previous on previous.touchpoint_id = assigned.touchpoint_id
    {%- endif %}

)

select * from final
