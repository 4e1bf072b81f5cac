-- One row per model × parameter (bgnbd, gamma_gamma): the night's probabilistic CLV fit with its log-likelihood,
-- customers used and status, as the customers asset wrote it (intermediate.customer_clv_fit).
with

fit as (

    select * from {{ source('customers', 'customer_clv_fit') }}

),

final as (

    select
        cast(model as {{ dbt.type_string() }}) as model,
        cast(parameter as {{ dbt.type_string() }}) as parameter,
        cast(value as {{ type_double() }}) as value,
        cast(log_likelihood as {{ type_double() }}) as log_likelihood,
        cast(customers_used as bigint) as customers_used,
        cast(fit_status as {{ dbt.type_string() }}) as fit_status
    from fit

)

select * from final
