-- One row per currency × rate date with the date range it applies to: a rate holds from its date until the
-- next delivered rate of that currency ("the latest rate on or before the amount's date").
with

rates as (

    select * from {{ ref('stg_finance__fx_rates') }}
    where
        {{ not_quarantined('fx_rates', composite_key(['rate_date', 'currency'])) }}
        and rate_date is not null and rate_to_base is not null

),

ranged as (

    select
        currency,
        rate_date as valid_from,
        lead(rate_date) over (partition by currency order by rate_date) as valid_to,
        rate_to_base
    from rates

)

select * from ranged
