-- One row per loss reason × source channel × product (campaigns and owners summed): lost deals and lost value.
-- The reasons alone are rpt_loss_reasons.
with

losses as (

    select loss_reason, source_channel, product, lost_deals, lost_value from {{ ref('mart_loss_reasons') }}

),

final as (

    select
        {{ label_or_not_set('loss_reason') }} as loss_reason,
        {{ label_or_not_set('source_channel') }} as source_channel,
        {{ label_or_not_set('product') }} as product,
        cast(sum(lost_deals) as bigint) as lost_deals,
        cast({{ exact_sum('lost_value') }} as {{ type_double() }}) as lost_value
    from losses
    group by 1, 2, 3

)

select * from final
