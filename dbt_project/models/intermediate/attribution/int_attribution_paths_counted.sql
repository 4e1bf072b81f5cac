-- One row per conversion type × month × path: how many paths converted and how many did not (docs/attribution.md), the
-- input of the Markov chain and of Shapley's coalition values (orchestration/lib/markov.py, shapley.py). Converting
-- paths are the conversions' paths; a non-converting path is, for every person with a touch and no conversion of that
-- type, their touches within the lookback before their last touch (int_person_paths; month = that last touch's).
with

conversion_paths as (

    select conversion_type, path_month, channel_path, channel_set from {{ ref('int_conversion_paths') }}

),

converted_people as (

    select distinct conversion_type, person_id from {{ ref('int_conversions') }}
    where person_id is not null

),

person_paths as (

    select person_id, lookback_days, path_month, channel_path, channel_set from {{ ref('int_person_paths') }}
    where channel_path is not null

),

non_converting as (
    {% for t in conversion_types() %}
        select
            '{{ t }}' as conversion_type, person_paths.path_month, person_paths.channel_path, person_paths.channel_set
        from person_paths
        left join converted_people
            on person_paths.person_id = converted_people.person_id and converted_people.conversion_type = '{{ t }}'
        where person_paths.lookback_days = {{ lookback_days_for(t) }} and converted_people.person_id is null
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
