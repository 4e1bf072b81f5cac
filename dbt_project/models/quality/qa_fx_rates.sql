-- Every staged exchange rate with the values the gate's rules read.
select
    {{ composite_key(['rate_date', 'currency']) }} as record_key,
    rate_date,
    currency,
    rate_to_base
from {{ ref('stg_finance__fx_rates') }}
