-- One row per conversion type × month × path: how many paths converted and how many did not (SPEC §6), the input
-- of the Markov chain and of Shapley's coalition values (orchestration/lib/markov.py, shapley.py). Converting
-- paths are the conversions' paths; a non-converting path is, for every person with a touch and no conversion of
-- that type, their touches within the lookback before their last touch (month = that last touch's).
{%- set types = ['lead_created', 'opportunity_created', 'deal_won', 'deal_lost'] -%}
{%- set lookbacks = [] -%}
{%- for t in types if lookback_days_for(t) not in lookbacks -%}{%- do lookbacks.append(lookback_days_for(t)) -%}{%- endfor %}
with

conversion_paths as (

    select conversion_type, path_month, channel_path, channel_set from {{ ref('int_conversion_paths') }}

),

converted_people as (

    select distinct conversion_type, person_id from {{ ref('int_conversions') }}
    where person_id is not null

),

person_touches as (

    select touch_people.person_id, touch_people.touchpoint_id, touch_people.occurred_at, touches.channel
    from {{ ref('int_touchpoint_people') }} as touch_people
    inner join {{ ref('int_touchpoints_classified') }} as touches on touches.touchpoint_id = touch_people.touchpoint_id

),

last_touches as (

    select person_id, max(occurred_at) as last_touch_at from person_touches group by person_id

),
{% for lookback in lookbacks %}
-- every person's touches within {{ lookback }} days before their last touch, as a collapsed path and a channel set
recent_touches_{{ lookback }} as (

    select
        person_touches.person_id,
        person_touches.channel,
        lag(person_touches.channel) over (
            partition by person_touches.person_id order by person_touches.occurred_at, person_touches.touchpoint_id
        ) as previous_channel,
        row_number() over (
            partition by person_touches.person_id order by person_touches.occurred_at, person_touches.touchpoint_id
        ) as touch_position,
        cast({{ dbt.date_trunc('month', 'last_touches.last_touch_at') }} as date) as path_month
    from person_touches
    inner join last_touches on last_touches.person_id = person_touches.person_id
    where person_touches.occurred_at >= {{ dbt.dateadd('day', -lookback, 'last_touches.last_touch_at') }}

),

person_sequences_{{ lookback }} as (

    select person_id, path_month, {{ dbt.listagg('channel', "'>'", 'order by touch_position') }} as channel_path
    from recent_touches_{{ lookback }}
    where previous_channel is null or previous_channel <> channel
    group by person_id, path_month

),

person_sets_{{ lookback }} as (

    select person_id, {{ dbt.listagg('channel', "','", 'order by channel') }} as channel_set
    from (select distinct person_id, channel from recent_touches_{{ lookback }}) as distinct_channels
    group by person_id

),

person_paths_{{ lookback }} as (

    select sequences.person_id, sequences.path_month, sequences.channel_path, sets.channel_set
    from person_sequences_{{ lookback }} as sequences
    inner join person_sets_{{ lookback }} as sets on sets.person_id = sequences.person_id

),
{% endfor %}
non_converting as (
{% for t in types %}
    select '{{ t }}' as conversion_type, person_paths.path_month, person_paths.channel_path, person_paths.channel_set
    from person_paths_{{ lookback_days_for(t) }} as person_paths
    left join converted_people
        on converted_people.person_id = person_paths.person_id and converted_people.conversion_type = '{{ t }}'
    where converted_people.person_id is null
    {% if not loop.last %}union all{% endif %}
{% endfor %}
),

paths as (

    select conversion_type, path_month, channel_path, channel_set, 1 as is_conversion from conversion_paths
    union all
    select conversion_type, path_month, channel_path, channel_set, 0 as is_conversion from non_converting

),

final as (

    select
        conversion_type,
        path_month,
        channel_path,
        channel_set,
        sum(is_conversion) as conversions,
        sum(1 - is_conversion) as non_conversions
    from paths
    group by conversion_type, path_month, channel_path, channel_set

)

select * from final
