{{
    config(
        materialized=incremental_where_supported(),
        unique_key=['person_id', 'lookback_days'],
        incremental_strategy='delete+insert',
        on_schema_change='sync_all_columns',
    )
}}
-- One row per person with a touch × lookback in use: their touches within the lookback before their last touch, as the
-- Markov chain sees them (collapsed channel path, month of the last touch) and as Shapley does (channel set) — the
-- non-converting paths of docs/attribution.md. Incremental: only people whose touches changed since the last build (a
-- different count, last touch, newest load or newest assignment); a person merged away keeps a row with a null path,
-- which the counts ignore.
{%- set lookbacks = lookbacks_in_use() %}
{%- set incremental = is_incremental_with('built_at') %}
with

touch_people as {{ not_materialized() }} (

    select touchpoint_id, person_id, occurred_at, person_since, touch_loaded_at
    from {{ ref('int_touchpoint_people') }}

),

touches as (

    select touchpoint_id, channel from {{ ref('int_touchpoints_classified') }}

),

lookbacks as (
    {% for lookback in lookbacks %}
        select {{ lookback }} as lookback_days{% if not loop.last %} union all{% endif %}
    {%- endfor %}

),

signatures as (

    select
        person_id,
        count(*) as touch_count,
        max(occurred_at) as last_touch_at,
        max(touch_loaded_at) as last_loaded_at,
        max(person_since) as last_assigned_at
    from touch_people
    group by person_id

),
{% if incremental %}
previous as (

    select person_id, lookback_days, touch_count, last_touch_at, last_loaded_at, last_assigned_at from {{ this }}

),

dirty as (

    select signatures.person_id, lookbacks.lookback_days
    from signatures
    cross join lookbacks
    left join previous
        on previous.person_id = signatures.person_id and previous.lookback_days = lookbacks.lookback_days
    where previous.person_id is null
        or previous.touch_count <> signatures.touch_count
        or previous.last_touch_at <> signatures.last_touch_at
        or previous.last_loaded_at <> signatures.last_loaded_at
        or previous.last_assigned_at <> signatures.last_assigned_at

),

vanished as (

    select previous.person_id, previous.lookback_days
    from previous
    left join signatures on signatures.person_id = previous.person_id
    where signatures.person_id is null and previous.touch_count > 0

),
{% else %}
    dirty as (

        select signatures.person_id, lookbacks.lookback_days from signatures cross join lookbacks

    ),
{% endif %}
recent_touches as (

    select
        dirty.person_id,
        dirty.lookback_days,
        touches.channel,
        lag(touches.channel) over (
            partition by dirty.person_id, dirty.lookback_days
            order by touch_people.occurred_at, touch_people.touchpoint_id
        ) as previous_channel,
        row_number() over (
            partition by dirty.person_id, dirty.lookback_days
            order by touch_people.occurred_at, touch_people.touchpoint_id
        ) as touch_position
    from dirty
    inner join signatures on dirty.person_id = signatures.person_id
    inner join touch_people on dirty.person_id = touch_people.person_id
    inner join touches on touch_people.touchpoint_id = touches.touchpoint_id
    where touch_people.occurred_at >= {{ dbt.dateadd('day', '-dirty.lookback_days', 'signatures.last_touch_at') }}

),

sequences as (

    select person_id, lookback_days, {{ ordered_listagg('channel', "'>'", 'touch_position') }} as channel_path
    from recent_touches
    where previous_channel is null or previous_channel <> channel
    group by person_id, lookback_days

),

channel_sets as (

    select person_id, lookback_days, {{ ordered_listagg('channel', "','", 'channel') }} as channel_set
    from (select distinct person_id, lookback_days, channel from recent_touches) as distinct_channels
    group by person_id, lookback_days

),

rebuilt as (

    select
        sequences.person_id,
        sequences.lookback_days,
        cast({{ dbt.date_trunc('month', 'signatures.last_touch_at') }} as date) as path_month,
        sequences.channel_path,
        channel_sets.channel_set,
        signatures.touch_count,
        signatures.last_touch_at,
        signatures.last_loaded_at,
        signatures.last_assigned_at
    from sequences
    inner join channel_sets
        on sequences.person_id = channel_sets.person_id and sequences.lookback_days = channel_sets.lookback_days
    inner join signatures on sequences.person_id = signatures.person_id

),

final as (

    select *, {{ run_timestamp() }} as built_at from rebuilt
    {% if incremental %}
    union all
    select
        person_id,
        lookback_days,
        cast(null as date) as path_month,
        cast(null as {{ dbt.type_string() }}) as channel_path,
        cast(null as {{ dbt.type_string() }}) as channel_set,
        0 as touch_count,
        cast(null as timestamp) as last_touch_at,
        cast(null as timestamp) as last_loaded_at,
        cast(null as timestamp) as last_assigned_at,
        {{ run_timestamp() }} as built_at
    from vanished
    {% endif %}

)

select * from final
