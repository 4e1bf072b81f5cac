{{ config(materialized='view', contract={'enforced': false}) }}
-- One row per conversion type × converting channel set × channel: each data-driven model's weight
-- (docs/attribution.md). A conversion's Markov or Shapley share of a touch is the weight of the touch's channel in the
-- conversion's channel set, split equally over the channel's touches (fct_attribution_rule_based has both). A view.
-- Its weight columns come first, as their number follows closedloop__attribution_models.
with

weights as (

    select * from {{ ref('int_attribution_channel_weights') }}

),

final as (

    select * from weights

)

select * from final
