{{ config(materialized='view' if target.type == 'duckdb' else 'table') }}
-- One row per conversion × path touch × model (docs/attribution.md and docs/marts.md): the touch's share of the
-- conversion and of its value: fct_attribution_wide (one row per path touch, a share column per model) unpivoted by
-- model. The serving file holds this as a view over fct_attribution_wide (orchestration/lib/publish.py).
-- A view on DuckDB: a night need not write 10 rows per path touch to the build warehouse (at 1 M leads, 107 M rows)
-- only for publishing to copy them; its readers (the credit check, the tests) compute it as they read. A table on
-- PostgreSQL and Spark, whose planners would redo the unpivot for every reader.
with

touches as (

    select * from {{ ref('fct_attribution_wide') }}

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
