{{ config(tags=['after_python']) }}
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

credited as (

    select
        attribution.channel,
        attribution.utm_source,
        attribution.utm_medium,
        attribution.utm_campaign,
        attribution.model,
        attribution.conversion_type,
        attribution.share,
        attribution.attributed_value,
        conversions.is_new_customer,
        cast({{ dbt.date_trunc('month', 'attribution.converted_at') }} as date) as month
    from attribution
    inner join conversions on attribution.conversion_id = conversions.conversion_id

),

attributed as (

    select
        month,
        channel,
        utm_source,
        utm_medium,
        utm_campaign,
        model,
        {{ exact_sum("case when conversion_type = 'lead_created' then share else 0 end") }} as attributed_leads,
        {{ exact_sum("case when conversion_type = 'opportunity_created' then share else 0 end") }}
            as attributed_opportunities,
        {{ exact_sum("case when conversion_type = 'opportunity_created' then attributed_value else 0 end") }}
            as attributed_pipeline,
        {{ exact_sum("case when conversion_type = 'deal_won' then share else 0 end") }} as attributed_won_deals,
        {{ exact_sum("case when is_new_customer then share else 0 end") }} as attributed_new_customers,
        {{ exact_sum("case when conversion_type = 'deal_won' then attributed_value else 0 end") }}
            as attributed_revenue,
        {{ exact_sum("case when conversion_type = 'deal_lost' then share else 0 end") }} as attributed_lost_deals,
        {{ exact_sum("case when conversion_type = 'deal_lost' then attributed_value else 0 end") }}
            as attributed_lost_value
    from credited
    group by 1, 2, 3, 4, 5, 6

),

spend as (

    select
        cast({{ dbt.date_trunc('month', 'spend_date') }} as date) as month,
        channel,
        utm_source,
        utm_medium,
        utm_campaign,
        {{ exact_sum('spend_base') }} as spend
    from spend_rows
    group by 1, 2, 3, 4, 5

),

grain as (

    select
        month,
        channel,
        utm_source,
        utm_medium,
        utm_campaign,
        model
    from attributed
    union
    select
        spend.month,
        spend.channel,
        spend.utm_source,
        spend.utm_medium,
        spend.utm_campaign,
        models.model
    from spend
    cross join models

),

joined as (

    select
        grain.month,
        grain.channel,
        grain.utm_source,
        grain.utm_medium,
        grain.utm_campaign,
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
        on
            grain.month = attributed.month
            and grain.model = attributed.model
            and {{ null_safe_equals('grain.channel', 'attributed.channel') }}
            and {{ null_safe_equals('grain.utm_source', 'attributed.utm_source') }}
            and {{ null_safe_equals('grain.utm_medium', 'attributed.utm_medium') }}
            and {{ null_safe_equals('grain.utm_campaign', 'attributed.utm_campaign') }}
    left join spend
        on
            grain.month = spend.month
            and {{ null_safe_equals('grain.channel', 'spend.channel') }}
            and {{ null_safe_equals('grain.utm_source', 'spend.utm_source') }}
            and {{ null_safe_equals('grain.utm_medium', 'spend.utm_medium') }}
            and {{ null_safe_equals('grain.utm_campaign', 'spend.utm_campaign') }}

)

select * from joined
