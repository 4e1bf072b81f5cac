-- One row per month × channel × model: spend, attributed conversions and value, CPL, CAC, ROAS, ROI; the campaigns
-- of int_roi_by_campaign summed.
with

roi as (

    select * from {{ ref('int_roi_by_campaign') }}

),

summed as (

    select
        month,
        channel,
        model,
        {{ roi_sums() }}
    from roi
    group by month, channel, model

),

final as (

    select
        month,
        channel,
        model,
        {{ roi_columns() }}
    from summed

)

select * from final
