{{ config(materialized='view' if target.type == 'duckdb' else 'table') }}
-- One row per conversion × path touch × model (docs/attribution.md and docs/marts.md): the touch's share of the
-- conversion and of its value. Heuristic shares come from int_conversion_touches (which carries the conversion's and
-- the touch's columns); markov and shapley shares are the channel's weight for the conversion's channel set
-- (intermediate.attribution_channel_weights) split equally over the channel's touches, or linear where the weight is
-- null or missing.
-- A view on DuckDB: its rows are int_conversion_touches' (already incremental) unpivoted by model, plus the Markov
-- and Shapley shares from the small weights table, so a night need not write 10 rows per path touch to the build
-- warehouse (at 1 M leads, 107 M rows, the slowest mart) only for publishing to copy them again; its readers
-- (publishing, int_roi_by_campaign, the tests) compute it as they read. A table on PostgreSQL and Spark, whose
-- planners would redo the unpivot for every reader.
with

touches as (

    select * from {{ ref('int_conversion_touches') }}

),

conversions as (

    select conversion_id from {{ ref('int_conversions') }}

),

paths as (

    select conversion_id, channel_set from {{ ref('int_conversion_paths') }}

),

weights as (

    select conversion_type, model, channel_set, channel, weight
    from {{ source('attribution', 'attribution_channel_weights') }}

),

models as (
    {{ attribution_models_relation() }}

),

-- int_conversion_touches is incremental: a conversion that no longer exists may still have rows there
current_touches as (

    select touches.*, paths.channel_set from touches
    inner join conversions on touches.conversion_id = conversions.conversion_id
    inner join paths on touches.conversion_id = paths.conversion_id

),

shares as (

    select
        current_touches.*,
        models.model,
        case models.model
            {%- for model in attribution_models() if model not in ('markov', 'shapley') %}
                when '{{ model }}' then current_touches.share_{{ model }}
            {%- endfor %}
            else coalesce(weights.weight / current_touches.channel_touches, 1.0 / current_touches.path_length)
        end as share
    from current_touches
    cross join models
    left join weights
        on
            current_touches.conversion_type = weights.conversion_type
            and current_touches.channel_set = weights.channel_set
            and current_touches.channel = weights.channel
            and models.model = weights.model

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
        cast(touch_position as integer) as touch_position,
        cast(path_length as integer) as path_length,
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
