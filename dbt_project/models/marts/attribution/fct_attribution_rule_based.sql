{{ config(materialized='view', contract={'enforced': false}) }}
-- One row per conversion × path touch: fct_attribution_wide's columns with the rule-based models' shares only, plus
-- what the data-driven shares follow from (docs/attribution.md): the conversion's channel set and the channel's
-- touches on the path. The serving file stores this and mart_attribution_channel_weights, and serves
-- fct_attribution_wide as a view joining them, so a night that moves the Markov and Shapley weights changes a few
-- thousand weight rows, not every path touch (docs/serving.md#what-a-night-writes). A view in the build warehouse.
with

touches as (

    select * from {{ ref('int_attribution_touches') }}

),

final as (

    select
        {% for column in attribution_touch_columns() %}
            {{ column }},
        {% endfor %}
        channel_set,
        cast(channel_touches as integer) as channel_touches,
        {% for model in attribution_models() if model not in data_driven_models() %}
            share_{{ model }},
        {% endfor %}
        value
    from touches

)

select * from final
