{{ config(meta={'dagster': {'ref': {'name': 'fct_attribution'}}}) }}
-- docs/attribution.md invariants, every night: for every conversion and model the shares sum to 1 (±1e-9) and the attributed
-- values to the conversion's value, and the touches look numbered 1..path_length once each (the key
-- conversion_id × touch_position × model); every conversion is credited under every model. Returns the
-- offenders. One pass over fct_attribution: at 1 M leads it holds over 100 M rows.
with

attribution as (

    select * from {{ ref('fct_attribution') }}

),

conversions as (

    select conversion_id, value from {{ ref('fct_conversions') }}

),

per_model as (

    select
        conversion_id,
        model,
        sum(share) as share_total,
        sum(attributed_value) as value_total,
        count(*) as touches,
        max(path_length) as path_length,
        min(touch_position) as first_position,
        max(touch_position) as last_position,
        sum(touch_position) as position_total
    from attribution
    group by conversion_id, model

),

per_conversion as (

    select conversion_id, count(*) as models from per_model group by conversion_id

),

unbalanced as (

    select per_model.conversion_id, per_model.model, 'shares do not sum to 1' as problem
    from per_model
    where abs(per_model.share_total - 1) > 1e-9
    union all
    select per_model.conversion_id, per_model.model, 'attributed value differs from the conversion value'
    from per_model
    inner join conversions on conversions.conversion_id = per_model.conversion_id
    where abs(per_model.value_total - conversions.value) > 1e-6 * (1 + abs(conversions.value))
    union all
    -- count, ends and sum of the positions, in the same pass: catches a duplicated or missing touch (a strict
    -- count(distinct) would cost a second pass over the table)
    select conversion_id, model, 'touches not numbered 1..path_length once each'
    from per_model
    where touches <> path_length or first_position <> 1 or last_position <> path_length
        or position_total <> path_length * (path_length + 1) / 2

),

missing as (

    select conversions.conversion_id, cast(null as {{ dbt.type_string() }}) as model,
        'not credited under every model' as problem
    from conversions
    left join per_conversion on per_conversion.conversion_id = conversions.conversion_id
    where coalesce(per_conversion.models, 0) <> {{ attribution_models() | length }}

)

select * from unbalanced
union all
select * from missing
