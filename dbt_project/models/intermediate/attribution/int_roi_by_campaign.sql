{{ config(tags=['after_python']) }}
{#- The month × campaign grain both ROI marts read: attributed conversions and value beside spend. -#}
{%- set keys = ['channel', 'utm_source', 'utm_medium', 'utm_campaign'] -%}
{%- set key_list = keys | join(', ') %}
-- One row per month × channel × campaign (utm_source, utm_medium, utm_campaign) × model: the conversions and value
-- attributed under the model (in the month they happen) beside the spend (in the month it is spent); a grain with
-- spend and no conversions shows zeros for every model. Tagged after_python: it reads fct_attribution, which the
-- Markov/Shapley step feeds, so the nightly run builds it with the marts.
with

attribution as (

    select * from {{ ref('fct_attribution') }}

),

conversions as (

    select conversion_id, is_new_customer from {{ ref('int_conversions') }}

),

spend_rows as (

    select * from {{ ref('int_ad_spend_classified') }}

),

models as (
{{ attribution_models_relation() }}

),

attributed as (

    select
        cast({{ dbt.date_trunc('month', 'attribution.converted_at') }} as date) as month,
        {% for key in keys %}attribution.{{ key }}, {% endfor %}
        attribution.model,
        {{ exact_sum("case when attribution.conversion_type = 'lead_created' then attribution.share else 0 end") }} as attributed_leads,
        {{ exact_sum("case when attribution.conversion_type = 'opportunity_created' then attribution.share else 0 end") }}
            as attributed_opportunities,
        {{ exact_sum("case when attribution.conversion_type = 'opportunity_created' then attribution.attributed_value else 0 end") }}
            as attributed_pipeline,
        {{ exact_sum("case when attribution.conversion_type = 'deal_won' then attribution.share else 0 end") }} as attributed_won_deals,
        {{ exact_sum("case when conversions.is_new_customer then attribution.share else 0 end") }} as attributed_new_customers,
        {{ exact_sum("case when attribution.conversion_type = 'deal_won' then attribution.attributed_value else 0 end") }}
            as attributed_revenue,
        {{ exact_sum("case when attribution.conversion_type = 'deal_lost' then attribution.share else 0 end") }} as attributed_lost_deals,
        {{ exact_sum("case when attribution.conversion_type = 'deal_lost' then attribution.attributed_value else 0 end") }}
            as attributed_lost_value
    from attribution
    inner join conversions on conversions.conversion_id = attribution.conversion_id
    group by 1, {% for key in keys %}attribution.{{ key }}, {% endfor %}attribution.model

),

spend as (

    select
        cast({{ dbt.date_trunc('month', 'spend_date') }} as date) as month,
        {% for key in keys %}{{ key }}, {% endfor %}
        {{ exact_sum('spend_base') }} as spend
    from spend_rows
    group by 1{% for key in keys %}, {{ key }}{% endfor %}

),

grain as (

    select month, {{ key_list }}, model from attributed
    union
    select spend.month, {% for key in keys %}spend.{{ key }}, {% endfor %}models.model from spend cross join models

),

joined as (

    select
        grain.month,
        {% for key in keys %}grain.{{ key }}, {% endfor %}
        grain.model,
        coalesce(spend.spend, 0) as spend,
        coalesce(attributed.attributed_leads, 0) as attributed_leads,
        coalesce(attributed.attributed_opportunities, 0) as attributed_opportunities,
        coalesce(attributed.attributed_pipeline, 0) as attributed_pipeline,
        coalesce(attributed.attributed_won_deals, 0) as attributed_won_deals,
        coalesce(attributed.attributed_new_customers, 0) as attributed_new_customers,
        coalesce(attributed.attributed_revenue, 0) as attributed_revenue,
        coalesce(attributed.attributed_lost_deals, 0) as attributed_lost_deals,
        coalesce(attributed.attributed_lost_value, 0) as attributed_lost_value
    from grain
    left join attributed
        on attributed.month = grain.month
        and attributed.model = grain.model
        {%- for key in keys %}
        and {{ null_safe_equals('attributed.' ~ key, 'grain.' ~ key) }}
        {%- endfor %}
    left join spend
        on spend.month = grain.month
        {%- for key in keys %}
        and {{ null_safe_equals('spend.' ~ key, 'grain.' ~ key) }}
        {%- endfor %}

)

select * from joined
