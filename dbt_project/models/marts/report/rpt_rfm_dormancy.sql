-- One row per dormancy status: its customers, ordered by how long ago they last bought.
with

rfm as (

    select dormancy_status, months_since_last_purchase from {{ ref('mart_rfm') }}

),

final as (

    select
        {{ label_or_not_set('dormancy_status') }} as dormancy_status,
        cast(count(*) as bigint) as customers,
        cast(min(months_since_last_purchase) as {{ type_double() }}) as min_months_since_last_purchase
    from rfm
    group by 1

)

select * from final
