{{
    config(
        materialized=incremental_where_supported(),
        unique_key='touchpoint_id',
        incremental_strategy='delete+insert',
        on_schema_change='sync_all_columns',
        post_hook=[
            "{{ delete_quarantined('touchpoints', 'touchpoint_id') }}",
            "{{ after_touchpoint_people() }}",
        ],
    )
}}
-- One row per touchpoint that belongs to a person: the person of its cookie, else of its email, else of its phone
-- (all three belong to the same person whenever they are not blocklisted: the touch links them). A touch whose
-- only identifiers are blocklisted belongs to nobody. People merge as data arrives, so an old touch can move to
-- another person (fct_touchpoints does not carry person_id for that reason).
-- Incremental (docs/identity.md#the-touches-people): when tonight's people update the ones the last build read,
-- only the touches loaded since are assigned, and the touches of the people merged tonight take their new key;
-- otherwise every touch is assigned again (`touchpoint_people_mode`). An incremental build writes every touch it
-- reads, a null person where it has none, and the post-hook deletes those rows (a re-delivered touch can lose its
-- person).
-- `person_since` is when the touch got its current person (this run, unless the previous build already had the
-- same person): attribution recomputes only the conversions of people whose touches changed.
-- depends_on: {{ source('identity', 'identity_state') }}, {{ source('identity', 'identity_moves') }}
-- depends_on: {{ source('identity', 'touchpoint_people_built') }}
{%- set mode = touchpoint_people_mode() %}
{%- set existing = adapter.get_relation(this.database, this.schema, this.identifier) %}
{%- set has_previous = target.type != 'spark' and has_column(existing, 'person_since') %}
with

touchpoints as {{ not_materialized() }} (

    select touchpoint_id, occurred_at, anonymous_id, email, phone, _loaded_at
    from {{ ref('int_touchpoints_classified') }}
    where {{ not_quarantined('touchpoints', 'touchpoint_id') }}
    {%- if mode != 'rebuild' %}
        and _loaded_at > (select touches_through from {{ source('identity', 'touchpoint_people_built') }})
    {%- endif %}

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

-- a cookie is never blocklisted and every cookie of a touch identity read is in the people table, so it decides
with_cookie as (

    select touchpoints.touchpoint_id, touchpoints.occurred_at, touchpoints._loaded_at, people_by_cookie.person_id
    from touchpoints
    left join people_by_cookie on touchpoints.anonymous_id = people_by_cookie.anonymous_id
    where touchpoints.anonymous_id is not null

),

without_cookie as (

    select
        touchpoints.touchpoint_id,
        touchpoints.occurred_at,
        touchpoints._loaded_at,
        coalesce(people_by_email.person_id, people_by_phone.person_id) as person_id
    from touchpoints
    left join people_by_email on touchpoints.email = people_by_email.email
    left join people_by_phone on touchpoints.phone = people_by_phone.phone
    where touchpoints.anonymous_id is null

),

read_touches as (

    select touchpoint_id, person_id, occurred_at, _loaded_at from with_cookie
    union all
    select touchpoint_id, person_id, occurred_at, _loaded_at from without_cookie

),
{%- if mode == 'moves' %}

-- the touches read before whose person was merged into another tonight
moved as (

    select kept.touchpoint_id, moves.person_id_now as person_id, kept.occurred_at, kept.touch_loaded_at as _loaded_at
    from {{ this }} as kept
    inner join {{ source('identity', 'identity_moves') }} as moves on kept.person_id = moves.person_id
    where not exists (select 1 from touchpoints where touchpoints.touchpoint_id = kept.touchpoint_id)

),
{%- endif %}

assigned as (

    select touchpoint_id, person_id, occurred_at, _loaded_at from read_touches
    {%- if not is_incremental() %}
        where person_id is not null
    {%- endif %}
    {%- if mode == 'moves' %}
    union all
    select touchpoint_id, person_id, occurred_at, _loaded_at from moved
    {%- endif %}

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
