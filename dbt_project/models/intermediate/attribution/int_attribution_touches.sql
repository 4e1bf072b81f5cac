{{ config(materialized='view', tags=['after_python']) }}
-- One row per current conversion × path touch with every model's share as a column (share_<model>, a double):
-- the heuristic shares of int_conversion_touches, and the Markov and Shapley shares, which are the channel's weight
-- for the conversion's channel set (intermediate.attribution_channel_weights) split equally over the channel's
-- touches, or linear where the weight is null or missing. fct_attribution unpivots it by model; int_roi_by_campaign
-- sums it in one pass without the unpivot. A view: its rows are int_conversion_touches' (already incremental) and the
-- weights are small. Tagged after_python: the weights come from the Markov/Shapley step. It keeps the channel set
-- and the channel's touches on the path, from which fct_attribution_rule_based's readers (the serving file's view)
-- compute the same data-driven shares.
{%- set data_driven = data_driven_models() %}
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

    select * from {{ ref('int_attribution_channel_weights') }}

),

-- int_conversion_touches is incremental: a conversion that no longer exists may still have rows there
final as (

    select
        touches.conversion_id,
        touches.conversion_type,
        touches.person_id,
        touches.lead_id,
        touches.deal_id,
        touches.converted_at,
        touches.value,
        touches.touchpoint_id,
        cast(touches.touch_position as integer) as touch_position,
        cast(touches.path_length as integer) as path_length,
        touches.channel,
        touches.utm_source,
        touches.utm_medium,
        {% for model in attribution_models() %}
            {% if model in data_driven %}
                cast(
                    coalesce(weights.weight_{{ model }} / touches.channel_touches, 1.0 / touches.path_length)
                    as {{ type_double() }}
                ) as share_{{ model }},
            {% else %}
                cast(touches.share_{{ model }} as {{ type_double() }}) as share_{{ model }},
            {% endif %}
        {% endfor %}
        touches.utm_campaign,
        paths.channel_set,
        touches.channel_touches
    from touches
    inner join conversions on touches.conversion_id = conversions.conversion_id
    inner join paths on touches.conversion_id = paths.conversion_id
    left join weights
        on
            touches.conversion_type = weights.conversion_type
            and paths.channel_set = weights.channel_set
            and touches.channel = weights.channel

)

select * from final
