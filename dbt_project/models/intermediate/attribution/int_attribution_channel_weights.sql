{{ config(tags=['after_python']) }}
-- One row per conversion type × converting channel set × channel, with a weight column per data-driven model
-- (weight_markov, weight_shapley): the channel's share of a conversion whose distinct channels are that set, from
-- the Markov/Shapley step. A few thousand rows; a conversion's data-driven shares are these weights split over the
-- channel's touches (int_attribution_touches). Tagged after_python: the step writes the weights. A table, not a view:
-- a view over the step's table would stop PostgreSQL from replacing that table the next night.
with

weights as (

    select * from {{ source('attribution', 'attribution_channel_weights') }}

),

final as (

    select
        {% for model in data_driven_models() %}
            max(case when model = '{{ model }}' then weight end) as weight_{{ model }},
        {% endfor %}
        conversion_type,
        channel_set,
        channel
    from weights
    group by conversion_type, channel_set, channel

)

select * from final
