{{ config(materialized='view' if target.type == 'duckdb' else 'table') }}
-- One row per conversion × path touch × model (docs/attribution.md and docs/marts.md): the touch's share of the
-- conversion and of its value, int_attribution_touches (one row per path touch, a share column per model)
-- unpivoted by model.
-- A view on DuckDB: its rows are int_conversion_touches' (already incremental) unpivoted by model, plus the Markov
-- and Shapley shares from the small weights table, so a night need not write 10 rows per path touch to the build
-- warehouse (at 1 M leads, 107 M rows, the slowest mart) only for publishing to copy them again; its readers
-- (publishing, the tests) compute it as they read. A table on PostgreSQL and Spark, whose planners would redo the
-- unpivot for every reader.
with

touches as (

    select * from {{ ref('int_attribution_touches') }}

),

models as (
    {{ attribution_models_relation() }}

),

shares as (

    select
        touches.*,
        models.model,
        case models.model
            {%- for model in attribution_models() %}
                when '{{ model }}' then touches.share_{{ model }}
            {%- endfor %}
        end as share
    from touches
    cross join models

),

final as (

    select
        conversion_id,
        conversion_type,
        person_id,
        lead_id,
        deal_id,
        converted_at,
        touchpoint_id,
        touch_position,
        path_length,
        channel,
        utm_source,
        utm_medium,
        utm_campaign,
        model,
        cast(share as {{ type_double() }}) as share,
        cast(share * value as {{ type_double() }}) as attributed_value
    from shares

)

select * from final
