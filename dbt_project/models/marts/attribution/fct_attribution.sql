-- One row per conversion × path touch × model (SPEC §6, §9): the touch's share of the conversion and of its value.
-- Heuristic shares come from int_conversion_touches; markov and shapley shares are the channel's weight for the
-- conversion's channel set (intermediate.attribution_channel_weights) split equally over the channel's touches,
-- or linear where the weight is null or missing.
with

touches as (

    select * from {{ ref('int_conversion_touches') }}

),

conversions as (

    select conversion_id, conversion_type, person_id, lead_id, deal_id, converted_at, value
    from {{ ref('int_conversions') }}

),

paths as (

    select conversion_id, channel_set from {{ ref('int_conversion_paths') }}

),

campaigns as (

    select touchpoint_id, utm_source, utm_medium, utm_campaign from {{ ref('int_touchpoints_classified') }}

),

weights as (

    select conversion_type, model, channel_set, channel, weight
    from {{ source('attribution', 'attribution_channel_weights') }}

),

models as (
{% for model in attribution_models() %}
    select '{{ model }}' as model{% if not loop.last %} union all{% endif %}
{%- endfor %}

),

heuristic as (

    select
        touches.conversion_id,
        touches.touchpoint_id,
        touches.touch_position,
        touches.path_length,
        touches.channel,
        models.model,
        case models.model
            {%- for model in attribution_models() if model not in ('markov', 'shapley') %}
            when '{{ model }}' then touches.share_{{ model }}
            {%- endfor %}
        end as share
    from touches
    cross join models
    where models.model not in ('markov', 'shapley')

),

data_driven as (

    select
        touches.conversion_id,
        touches.touchpoint_id,
        touches.touch_position,
        touches.path_length,
        touches.channel,
        models.model,
        coalesce(weights.weight / touches.channel_touches, 1.0 / touches.path_length) as share
    from touches
    inner join conversions on conversions.conversion_id = touches.conversion_id
    inner join paths on paths.conversion_id = touches.conversion_id
    cross join models
    left join weights
        on weights.conversion_type = conversions.conversion_type
        and weights.channel_set = paths.channel_set
        and weights.channel = touches.channel
        and weights.model = models.model
    where models.model in ('markov', 'shapley')

),

shares as (

    select * from heuristic
    union all
    select * from data_driven

),

final as (

    select
        shares.conversion_id,
        conversions.conversion_type,
        conversions.person_id,
        conversions.lead_id,
        conversions.deal_id,
        conversions.converted_at,
        shares.touchpoint_id,
        cast(shares.touch_position as integer) as touch_position,
        cast(shares.path_length as integer) as path_length,
        shares.channel,
        campaigns.utm_source,
        campaigns.utm_medium,
        campaigns.utm_campaign,
        shares.model,
        cast(shares.share as float8) as share,
        cast(shares.share * conversions.value as float8) as attributed_value
    from shares
    inner join conversions on conversions.conversion_id = shares.conversion_id
    left join campaigns on campaigns.touchpoint_id = shares.touchpoint_id

)

select * from final
