-- One row per month won × the lead's CRM source channel: won deals and their value.
with

won as (

    select converted_at, source_channel, value from {{ ref('fct_conversions') }}
    where conversion_type = 'deal_won' and converted_at is not null

),

summed as (

    select
        cast({{ dbt.date_trunc('month', 'converted_at') }} as date) as month,
        {{ label_or_not_set('source_channel') }} as source_channel,
        {{ exact_sum('value') }} as won_revenue,
        count(*) as won_deals
    from won
    group by 1, 2

),

final as (

    select
        month,
        source_channel,
        cast(won_revenue as {{ type_double() }}) as won_revenue,
        cast(won_deals as bigint) as won_deals
    from summed

)

select * from final
