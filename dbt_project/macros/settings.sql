{#- The closedloop__ vars as dbt sees them (`dbt run-operation print_settings --vars ...`): the values the job
    passes from orchestration/settings.py, else dbt_project.yml's defaults. -#}
{% macro print_settings() -%}
    {%- for name in ['closedloop__default_gross_margin', 'closedloop__clv_horizon_months',
        'closedloop__clv_monthly_discount_rate', 'closedloop__service_cost_per_month', 'closedloop__ltv_npv_years',
        'closedloop__ltv_annual_discount_rate', 'closedloop__ltv_max_lifetime_multiple', 'closedloop__ltv_min_customers',
        'closedloop__ltv_benchmark_industry', 'closedloop__ltv_cac_attribution_model',
        'closedloop__acquisition_attribution_model', 'closedloop__dormancy_first_months',
        'closedloop__dormancy_step_months', 'closedloop__dormancy_churned_months', 'closedloop__base_currency',
        'closedloop__internal_hosts', 'closedloop__lookback_days', 'closedloop__lookback_days_by_type',
        'closedloop__half_life_days', 'closedloop__attribution_models', 'closedloop__mql_threshold',
        'closedloop__lead_score_window_days', 'closedloop__business_timezone', 'closedloop__business_days',
        'closedloop__business_hours_start', 'closedloop__business_hours_end',
        'closedloop__sla_high_intent_business_minutes', 'closedloop__sla_min_attempts',
        'closedloop__sla_attempts_window_hours', 'closedloop__recycle_after_days'] -%}
        {{ log(name ~ '=' ~ var(name), info=True) }}
    {%- endfor -%}
{%- endmacro %}
