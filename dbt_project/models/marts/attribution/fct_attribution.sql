{{ config(materialized='view') }}
-- One row per conversion × path touch × model (docs/attribution.md and docs/marts.md): the touch's share of the
-- conversion and of its value: fct_attribution_wide (one row per path touch, a share column per model) unpivoted by
-- model. A view on every engine: a night need not write 12 rows per path touch (at 1 M leads, over 100 M rows) to
-- the build warehouse. The serving file holds the same unpivot as a view over its copy of fct_attribution_wide
-- (orchestration/lib/publish.py); the PostgreSQL serving copy and the Parquet export hold its rows.
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
