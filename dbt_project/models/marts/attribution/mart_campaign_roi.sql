-- One row per month × channel × campaign (utm_source, utm_medium, utm_campaign) × model: spend, attributed
-- conversions and value, CPL, CAC, ROAS, ROI.
with

roi as (

    select * from {{ ref('int_roi_by_campaign') }}

),

final as (

    select
        month,
        channel,
        utm_source,
        utm_medium,
        utm_campaign,
        model,
        {{ roi_columns() }}
    from roi

)

select * from final
