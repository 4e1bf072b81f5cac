-- One row per conversion, valued in the base currency (built in int_conversions, where attribution reads it).
with

conversions as (

    select * from {{ ref('int_conversions') }}

),

final as (

    select
        conversion_id,
        conversion_type,
        person_id,
        deal_id,
        lead_id,
        converted_at,
        value,
        amount,
        currency,
        source_channel,
        source_campaign
    from conversions

)

select * from final
