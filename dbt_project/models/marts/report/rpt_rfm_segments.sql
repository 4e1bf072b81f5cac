-- One row per RFM segment: its customers and their monetary value.
with

rfm as (

    select rfm_segment, monetary from {{ ref('mart_rfm') }}

),

final as (

    select
        coalesce(rfm_segment, '(unmapped)') as rfm_segment,
        cast(count(*) as bigint) as customers,
        cast({{ exact_sum('monetary') }} as {{ type_double() }}) as monetary
    from rfm
    group by 1

)

select * from final
