-- One row per loss reason: lost deals and lost value over every channel, campaign, owner and product.
with

losses as (

    select loss_reason, lost_deals, lost_value from {{ ref('mart_loss_reasons') }}

),

final as (

    select
        {{ label_or_not_set('loss_reason') }} as loss_reason,
        cast(sum(lost_deals) as bigint) as lost_deals,
        cast({{ exact_sum('lost_value') }} as {{ type_double() }}) as lost_value
    from losses
    group by 1

)

select * from final
