-- One row per rate date × currency (the latest delivery wins): units of base currency per unit of `currency`.
with

source as (

    select * from {{ source('finance', 'fx_rates') }}

),

cleaned as (

    select
        {{ to_date('rate_date') }} as rate_date,
        upper(trim(currency)) as currency,
        {{ to_number('rate_to_base') }} as rate_to_base,
        _loaded_at,
        _source_file,
        _row_number
    from source

),

latest as (

    {{ latest_version('cleaned', 'rate_date, currency', '_loaded_at desc, _source_file desc, _row_number desc') }}

),

final as (

    select rate_date, currency, rate_to_base, _loaded_at from latest

)

select * from final
