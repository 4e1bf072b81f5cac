-- One row per conversion type × period × channel: the Markov removal effect (docs/attribution.md), over all the type's
-- paths (period 'all', the chain fct_attribution's markov shares use) and per month over the paths ending in it.
with

effects as (

    select * from {{ source('attribution', 'attribution_removal_effects') }}

),

final as (

    select
        conversion_type,
        period,
        case when period = 'all' then null else cast(period as date) end as month,
        channel,
        cast(removal_effect as {{ type_double() }}) as removal_effect,
        cast(case
            when sum(removal_effect) over (partition by conversion_type, period) > 0
                then removal_effect / sum(removal_effect) over (partition by conversion_type, period)
        end as {{ type_double() }}) as removal_effect_share,
        cast(conversion_probability as {{ type_double() }}) as conversion_probability,
        cast(conversion_probability_without as {{ type_double() }}) as conversion_probability_without,
        cast(conversions as {{ type_double() }}) as conversions,
        cast(paths as {{ type_double() }}) as paths
    from effects

)

select * from final
