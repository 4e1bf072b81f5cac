{%- set years = int_setting('closedloop__ltv_npv_years') -%}
{%- set rate = var('closedloop__ltv_annual_discount_rate') -%}
{%- set lifetime_multiple = var('closedloop__ltv_max_lifetime_multiple') -%}
{%- set min_customers = var('closedloop__ltv_min_customers') -%}
-- One row per segment (segment_type × segment_value: overall, acquisition_channel, segment, region): the LTV
-- formulas with their inputs (int_ltv_segment_inputs: recurring revenue apart from the won deal, retention from the
-- fitted BG/NBD, margins per purchase), CAC, LTV:CAC with its band and the industry benchmark, and a confidence.
-- (a) ARPU × expected lifetime (1 ÷ monthly churn); (b) AOV × purchases per year × lifespan in years;
-- (c) ARPU × margin ÷ monthly churn — all three on recurring revenue;
-- (d) NPV Σ_{t=1..H} revenue_t × margin_t ÷ (1 + d)^t − CAC, revenue_t observed and projected by the CLV step;
-- (e) Σ over RFM sub-segments of revenue × retention (P(alive)) × margin, per customer;
-- (f) the BG/NBD + Gamma-Gamma CLV per customer (net of margin and service cost), summed ÷ customers.
-- ltv_3y = (d) before CAC: the discounted gross margin of a customer's first H years, the LTV of LTV:CAC (finite,
-- including the won deal, and projected no further than the fitted model reaches).
with

inputs as (

    select * from {{ ref('int_ltv_segment_inputs') }}

),

benchmarks as (

    select industry, benchmark_ltv_to_cac from {{ ref('ltv_cac_benchmarks') }}

),

-- CAC per channel: spend ÷ attributed new customers under closedloop__ltv_cac_attribution_model, over all months
channel_cac as (

    select
        channel,
        {{ exact_sum('spend') }} as spend,
        {{ exact_sum('attributed_new_customers') }} as new_customers
    from {{ ref('mart_channel_roi') }}
    where model = '{{ var("closedloop__ltv_cac_attribution_model") }}'
    group by channel

),

blended_cac as (

    select {{ exact_sum('spend') }} as spend, {{ exact_sum('new_customers') }} as new_customers from channel_cac

),

with_cac as (

    select
        inputs.*,
        case
            when inputs.segment_type <> 'acquisition_channel' then 'blended'
            when coalesce(channel_cac.spend, 0) > 0 then 'channel'
            else 'no_paid_cost'
        end as cac_basis,
        case when inputs.segment_type = 'acquisition_channel' then channel_cac.spend else blended_cac.spend end
            as cac_spend,
        case
            when inputs.segment_type = 'acquisition_channel' then channel_cac.new_customers
            else blended_cac.new_customers
        end as cac_new_customers
    from inputs
    cross join blended_cac
    left join channel_cac
        on inputs.segment_type = 'acquisition_channel' and inputs.segment_value = channel_cac.channel

),

formulas as (

    select
        with_cac.*,
        case
            when with_cac.cac_basis <> 'no_paid_cost'
                then cast(with_cac.cac_spend as {{ type_double() }}) / nullif(with_cac.cac_new_customers, 0)
        end as cac,
        1.0 / with_cac.monthly_churn as expected_lifetime_months,
        with_cac.arpu_monthly / with_cac.monthly_churn as ltv_arpu_lifetime,
        with_cac.aov * with_cac.purchases_per_year * (1.0 / with_cac.monthly_churn / 12.0) as ltv_aov_frequency,
        with_cac.arpu_monthly * with_cac.recurring_gross_margin / with_cac.monthly_churn as ltv_margin_churn,
        0
        {%- for t in range(1, years + 1) %}
            + coalesce(
                with_cac.revenue_per_customer_year_{{ t }} * with_cac.gross_margin_year_{{ t }} / {{ (1 + rate) ** t }},
                0
            )
        {%- endfor %} as ltv_3y,
        with_cac.retained_revenue_per_customer * with_cac.gross_margin as ltv_subsegments
    from with_cac

),

rated as (

    select
        formulas.*,
        -- the band follows the published (rounded) ratio, so a ratio shown as 4 is never `healthy`
        {{ round_float('formulas.ltv_3y / nullif(formulas.cac, 0)', 4) }} as ratio,
        {{ dbt.concat([
            "case when formulas.model_status not like 'fitted%' then ', clv_model_not_fitted' else '' end",
            "case when formulas.model_status like 'fitted_at_bound%' then ', clv_fit_at_bound' else '' end",
            "case when formulas.customers < " ~ min_customers ~ " then ', few_customers' else '' end",
            "case when formulas.monthly_churn is null or formulas.expected_lifetime_months > " ~ lifetime_multiple
                ~ " * formulas.observed_months then ', lifetime_beyond_window' else '' end",
            "case when " ~ years * 12 ~ " > " ~ lifetime_multiple
                ~ " * formulas.observed_months then ', horizon_beyond_window' else '' end",
        ]) }} as reasons
    from formulas

),

final as (

    select
        rated.segment_type,
        rated.segment_value,
        cast(rated.customers as bigint) as customers,
        cast(rated.purchases as bigint) as purchases,
        cast(rated.recurring_purchases as bigint) as recurring_purchases,
        {{ round_float('rated.revenue') }} as revenue,
        {{ round_float('rated.acquisition_revenue') }} as acquisition_revenue,
        {{ round_float('rated.recurring_revenue') }} as recurring_revenue,
        {{ round_float('rated.acquisition_revenue_per_customer') }} as acquisition_revenue_per_customer,
        {{ round_float('rated.exposure_months') }} as exposure_months,
        {{ round_float('rated.observed_months') }} as observed_months,
        {{ round_float('rated.expected_dropouts', 4) }} as expected_dropouts,
        {{ round_float('rated.arpu_monthly', 4) }} as arpu_monthly,
        {{ round_float('rated.monthly_churn', 6) }} as monthly_churn,
        {{ round_float('rated.expected_lifetime_months') }} as expected_lifetime_months,
        {{ round_float('rated.aov') }} as aov,
        {{ round_float('rated.purchases_per_year', 4) }} as purchases_per_year,
        {{ round_float('rated.recurring_gross_margin', 4) }} as recurring_gross_margin,
        {{ round_float('rated.gross_margin', 4) }} as gross_margin,
        cast({{ rate }} as {{ type_double() }}) as annual_discount_rate,
        {%- for t in range(1, years + 1) %}
            {{ round_float('rated.revenue_per_customer_year_' ~ t) }} as revenue_per_customer_year_{{ t }},
            {{ round_float('rated.gross_margin_year_' ~ t, 4) }} as gross_margin_year_{{ t }},
        {%- endfor %}
        {{ round_float('rated.retained_revenue_per_customer') }} as retained_revenue_per_customer,
        {{ round_float('rated.ltv_arpu_lifetime') }} as ltv_arpu_lifetime,
        {{ round_float('rated.ltv_aov_frequency') }} as ltv_aov_frequency,
        {{ round_float('rated.ltv_margin_churn') }} as ltv_margin_churn,
        {{ round_float('rated.ltv_3y') }} as ltv_3y,
        {{ round_float('rated.ltv_3y - rated.cac') }} as ltv_npv,
        cast({{ years }} as integer) as npv_years,
        {{ round_float('rated.ltv_subsegments') }} as ltv_subsegments,
        {{ round_float('rated.clv_per_customer') }} as ltv_probabilistic,
        rated.model_status as clv_model_status,
        rated.cac_basis,
        {{ round_float('rated.cac_spend') }} as cac_spend,
        cast(rated.cac_new_customers as {{ type_double() }}) as cac_new_customers,
        {{ round_float('rated.cac') }} as cac,
        rated.ratio as ltv_to_cac,
        case
            when rated.cac_basis = 'no_paid_cost' then 'no_paid_cost'
            when rated.cac is null then 'no_attributed_customers'
            when rated.ratio is null then 'no_ltv'
            when rated.ratio < 1 then 'losing_money'
            when rated.ratio < 3 then 'risky'
            when rated.ratio < 4 then 'healthy'
            else 'room_to_invest'
        end as ltv_to_cac_band,
        benchmarks.industry as benchmark_industry,
        cast(benchmarks.benchmark_ltv_to_cac as {{ type_double() }}) as benchmark_ltv_to_cac,
        case
            when rated.model_status not like 'fitted%' then 'insufficient'
            when rated.reasons <> '' then 'low'
            else 'ok'
        end as confidence,
        nullif(substr(rated.reasons, 3), '') as confidence_reasons
    from rated
    left join benchmarks
        on benchmarks.industry = case
            when rated.segment_type = 'segment' then rated.segment_value
            else '{{ var("closedloop__ltv_benchmark_industry") }}'
        end

)

select * from final
