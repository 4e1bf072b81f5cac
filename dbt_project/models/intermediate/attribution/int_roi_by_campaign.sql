{{ config(tags=['after_python']) }}
-- One row per month × channel × campaign (utm_source, utm_medium, utm_campaign) × model: the conversions and value
-- attributed under the model (in the month they happen) beside the spend (in the month it is spent); a grain with
-- spend and no conversions shows zeros for every model. It sums int_attribution_touches, one row per path touch
-- with a share column per model, in one pass (a tenth of fct_attribution's rows, no unpivot), into partial exact
-- sums per conversion type and new-customer flag, then unpivots those few rows by model. Tagged after_python: the
-- Markov and Shapley shares come from the Python step, so the nightly run builds it with the marts.
with

touches as (

    select * from {{ ref('int_attribution_touches') }}

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

-- every model's share and attributed value, summed per month, campaign, conversion type and new-customer flag
-- (exact_sum's first step)
summed as (

    select
        {% for model in attribution_models() %}
            {% set value = 'cast(touches.share_' ~ model ~ ' * touches.value as ' ~ type_double() ~ ')' %}
            {{ exact_sum_decimal('touches.share_' ~ model) }} as share_decimal_{{ model }},
            {{ exact_sum_overflow('touches.share_' ~ model) }} as share_overflow_{{ model }},
            {{ exact_sum_decimal(value) }} as value_decimal_{{ model }},
            {{ exact_sum_overflow(value) }} as value_overflow_{{ model }},
        {% endfor %}
        touches.channel,
        touches.utm_source,
        touches.utm_medium,
        touches.utm_campaign,
        touches.conversion_type,
        conversions.is_new_customer,
        cast({{ dbt.date_trunc('month', 'touches.converted_at') }} as date) as month
    from touches
    inner join conversions on touches.conversion_id = conversions.conversion_id
    group by
        touches.channel,
        touches.utm_source,
        touches.utm_medium,
        touches.utm_campaign,
        touches.conversion_type,
        conversions.is_new_customer,
        cast({{ dbt.date_trunc('month', 'touches.converted_at') }} as date)

),

summed_by_model as (

    select
        {% for part in ['share_decimal', 'share_overflow', 'value_decimal', 'value_overflow'] %}
            case models.model
                {% for model in attribution_models() %}
                    when '{{ model }}' then summed.{{ part }}_{{ model }}
                {% endfor %}
            end as {{ part }},
        {% endfor %}
        summed.month,
        summed.channel,
        summed.utm_source,
        summed.utm_medium,
        summed.utm_campaign,
        summed.conversion_type,
        summed.is_new_customer,
        models.model
    from summed
    cross join models

),

attributed as (

    select
        {% for measure, part, condition in [
            ('attributed_leads', 'share', "conversion_type = 'lead_created'"),
            ('attributed_opportunities', 'share', "conversion_type = 'opportunity_created'"),
            ('attributed_pipeline', 'value', "conversion_type = 'opportunity_created'"),
            ('attributed_won_deals', 'share', "conversion_type = 'deal_won'"),
            ('attributed_new_customers', 'share', 'is_new_customer'),
            ('attributed_revenue', 'value', "conversion_type = 'deal_won'"),
            ('attributed_lost_deals', 'share', "conversion_type = 'deal_lost'"),
            ('attributed_lost_value', 'value', "conversion_type = 'deal_lost'"),
        ] %}
            {{ exact_sum_total(
                'sum(case when ' ~ condition ~ ' then ' ~ part ~ '_decimal end)',
                'sum(case when ' ~ condition ~ ' then ' ~ part ~ '_overflow end)'
            ) }} as {{ measure }},
        {% endfor %}
        month,
        channel,
        utm_source,
        utm_medium,
        utm_campaign,
        model
    from summed_by_model
    group by month, channel, utm_source, utm_medium, utm_campaign, model

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
    group by
        cast({{ dbt.date_trunc('month', 'spend_date') }} as date),
        channel,
        utm_source,
        utm_medium,
        utm_campaign

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
