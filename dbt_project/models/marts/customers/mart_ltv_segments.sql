{%- set years = var('closedloop__ltv_npv_years') -%}
{%- set margin = var('closedloop__gross_margin') -%}
{%- set rate = var('closedloop__ltv_annual_discount_rate') -%}
-- One row per segment (segment_type × segment_value: overall, acquisition_channel, segment, region): the LTV
-- formulas of SPEC §8 with their inputs (int_ltv_segment_inputs), CAC, LTV:CAC with its band and the industry
-- benchmark (CAC from mart_channel_roi). (a) ARPU × expected lifetime (1 ÷ monthly churn); (b) AOV × purchases per year × lifespan in years;
-- (c) ARPU × margin ÷ monthly churn; (d) NPV Σ_t revenue_t × margin ÷ (1 + d)^t − CAC over the years observed;
-- (e) Σ over RFM sub-segments of revenue × retention × margin, per customer. LTV:CAC uses (c).
with

inputs as (

    select * from {{ ref('int_ltv_segment_inputs') }}

),

benchmarks as (

    select industry, benchmark_ltv_to_cac from {{ ref('ltv_cac_benchmarks') }}

),

-- CAC per channel (SPEC §9): spend ÷ attributed new customers (won deals) under the attribution model of
-- closedloop__ltv_cac_attribution_model, over all months; `blended` = all spend ÷ all attributed won deals
channel_cac as (

    select
        channel,
        {{ exact_sum('spend') }} as spend,
        {{ exact_sum('attributed_won_deals') }} as new_customers
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
        case when inputs.segment_type = 'acquisition_channel' then 'channel' else 'blended' end as cac_basis,
        case when inputs.segment_type = 'acquisition_channel' then channel_cac.spend else blended_cac.spend end
            as cac_spend,
        case when inputs.segment_type = 'acquisition_channel' then channel_cac.new_customers
            else blended_cac.new_customers end as cac_new_customers
    from inputs
    cross join blended_cac
    left join channel_cac
        on inputs.segment_type = 'acquisition_channel' and channel_cac.channel = inputs.segment_value

),

formulas as (

    select
        with_cac.*,
        cast(with_cac.cac_spend as float8) / nullif(with_cac.cac_new_customers, 0) as cac,
        1.0 / with_cac.monthly_churn as expected_lifetime_months,
        with_cac.arpu_monthly / with_cac.monthly_churn as ltv_arpu_lifetime,
        with_cac.aov * with_cac.purchases_per_year * (1.0 / with_cac.monthly_churn / 12.0) as ltv_aov_frequency,
        with_cac.arpu_monthly * {{ margin }} / with_cac.monthly_churn as ltv_margin_churn,
        0
        {%- for t in range(1, years + 1) %}
            + coalesce(with_cac.revenue_per_customer_year_{{ t }} * {{ margin }} / {{ (1 + rate) ** t }}, 0)
        {%- endfor %} as npv_discounted_margin,
        0
        {%- for t in range(1, years + 1) %}
            + case when with_cac.revenue_per_customer_year_{{ t }} is null then 0 else 1 end
        {%- endfor %} as npv_years_observed,
        with_cac.retained_revenue_per_customer * {{ margin }} as ltv_subsegments
    from with_cac

),

final as (

    select
        formulas.segment_type,
        formulas.segment_value,
        cast(formulas.customers as bigint) as customers,
        cast(formulas.purchases as bigint) as purchases,
        {{ round_float('formulas.revenue') }} as revenue,
        {{ round_float('formulas.exposure_months') }} as exposure_months,
        cast(formulas.lapsed_customers as bigint) as lapsed_customers,
        {{ round_float('formulas.arpu_monthly', 4) }} as arpu_monthly,
        {{ round_float('formulas.monthly_churn', 6) }} as monthly_churn,
        {{ round_float('formulas.expected_lifetime_months') }} as expected_lifetime_months,
        {{ round_float('formulas.aov') }} as aov,
        {{ round_float('formulas.purchases_per_year', 4) }} as purchases_per_year,
        cast({{ margin }} as float8) as gross_margin,
        cast({{ rate }} as float8) as annual_discount_rate,
        {%- for t in range(1, years + 1) %}
        {{ round_float('formulas.revenue_per_customer_year_' ~ t) }} as revenue_per_customer_year_{{ t }},
        {%- endfor %}
        {{ round_float('formulas.retained_revenue_per_customer') }} as retained_revenue_per_customer,
        {{ round_float('formulas.ltv_arpu_lifetime') }} as ltv_arpu_lifetime,
        {{ round_float('formulas.ltv_aov_frequency') }} as ltv_aov_frequency,
        {{ round_float('formulas.ltv_margin_churn') }} as ltv_margin_churn,
        {{ round_float('formulas.npv_discounted_margin - formulas.cac') }} as ltv_npv,
        cast(formulas.npv_years_observed as integer) as npv_years_observed,
        {{ round_float('formulas.ltv_subsegments') }} as ltv_subsegments,
        formulas.cac_basis,
        {{ round_float('formulas.cac_spend') }} as cac_spend,
        cast(formulas.cac_new_customers as float8) as cac_new_customers,
        {{ round_float('formulas.cac') }} as cac,
        {{ round_float('formulas.ltv_margin_churn / nullif(formulas.cac, 0)', 4) }} as ltv_to_cac,
        case
            when formulas.ltv_margin_churn / nullif(formulas.cac, 0) is null then null
            when formulas.ltv_margin_churn / formulas.cac < 1 then 'losing_money'
            when formulas.ltv_margin_churn / formulas.cac < 3 then 'risky'
            when formulas.ltv_margin_churn / formulas.cac < 4 then 'healthy'
            else 'room_to_invest'
        end as ltv_to_cac_band,
        benchmarks.industry as benchmark_industry,
        cast(benchmarks.benchmark_ltv_to_cac as float8) as benchmark_ltv_to_cac
    from formulas
    left join benchmarks
        on benchmarks.industry = case when formulas.segment_type = 'segment' then formulas.segment_value
            else '{{ var("closedloop__ltv_benchmark_industry") }}' end

)

select * from final
