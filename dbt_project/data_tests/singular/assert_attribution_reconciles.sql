{{ config(meta={'dagster': {'ref': {'name': 'fct_attribution_wide'}}}) }}
-- docs/attribution.md invariants, every night: for every conversion and model the shares sum to 1 (±1e-9) and the
-- attributed values to the conversion's value, and the touches look numbered 1..path_length once each (the key
-- conversion_id × touch_position × model); every conversion is credited under every model. Returns the
-- offenders. One pass over fct_attribution_wide, whose rows fct_attribution repeats once per model (a share column
-- each): at 1 M leads a tenth of fct_attribution's 100 M rows.
with

attribution as (

    select * from {{ ref('fct_attribution_wide') }}

),

conversions as (

    select conversion_id, value from {{ ref('fct_conversions') }}

),

models as (

    {{ attribution_models_relation() }}

),

per_conversion as (

    select
        {% for model in attribution_models() %}
            sum(share_{{ model }}) as share_total_{{ model }},
            sum(cast(share_{{ model }} * value as {{ type_double() }})) as value_total_{{ model }},
        {% endfor %}
        conversion_id,
        count(*) as touches,
        max(path_length) as path_length,
        min(touch_position) as first_position,
        max(touch_position) as last_position,
        sum(touch_position) as position_total
    from attribution
    group by conversion_id

),

per_model as (

    select
        per_conversion.conversion_id,
        models.model,
        per_conversion.touches,
        per_conversion.path_length,
        per_conversion.first_position,
        per_conversion.last_position,
        per_conversion.position_total,
        case models.model
            {% for model in attribution_models() %}
                when '{{ model }}' then per_conversion.share_total_{{ model }}
            {% endfor %}
        end as share_total,
        case models.model
            {% for model in attribution_models() %}
                when '{{ model }}' then per_conversion.value_total_{{ model }}
            {% endfor %}
        end as value_total
    from per_conversion
    cross join models

),

unbalanced as (

    select per_model.conversion_id, per_model.model, 'shares do not sum to 1' as problem
    from per_model
    where not (abs(per_model.share_total - 1) <= 1e-9)
    union all
    select per_model.conversion_id, per_model.model, 'attributed value differs from the conversion value'
    from per_model
    inner join conversions on per_model.conversion_id = conversions.conversion_id
    where abs(per_model.value_total - conversions.value) > 1e-6 * (1 + abs(conversions.value))
    union all
    -- count, ends and sum of the positions, in the same pass: catches a duplicated or missing touch (a strict
    -- count(distinct) would cost a second pass over the table)
    select conversion_id, model, 'touches not numbered 1..path_length once each'
    from per_model
    where
        touches <> path_length or first_position <> 1 or last_position <> path_length
        or position_total <> path_length * (path_length + 1) / 2

),

missing as (

    select
        conversions.conversion_id,
        cast(null as {{ dbt.type_string() }}) as model,
        'not credited under every model' as problem
    from conversions
    left join per_conversion on conversions.conversion_id = per_conversion.conversion_id
    where per_conversion.conversion_id is null

)

select * from unbalanced
union all
select * from missing
