{{ config(meta={'dagster': {'ref': {'name': 'fct_attribution'}}}) }}
-- SPEC §6 invariants, every night: for every conversion and model the shares sum to 1 (±1e-9) and the attributed
-- values to the conversion's value; every conversion is credited under every model. Returns the offenders.
with

attribution as (

    select * from {{ ref('fct_attribution') }}

),

conversions as (

    select conversion_id, value from {{ ref('fct_conversions') }}

),

per_model as (

    select conversion_id, model, sum(share) as share_total, sum(attributed_value) as value_total
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
