{%- set model = var('closedloop__acquisition_attribution_model') -%}
{%- set heuristic = ['first_touch', 'last_touch', 'last_non_direct', 'linear', 'position_based', 'time_decay',
                     'j_shaped', 'inverse_j', 'w_shaped', 'full_path'] -%}
{%- if model not in heuristic -%}
    {{ exceptions.raise_compiler_error("closedloop__acquisition_attribution_model must be one of "
                                       ~ heuristic | join(', ') ~ ", got: " ~ model) }}
{%- endif -%}
{%- set default_margin = number_setting('closedloop__default_gross_margin') -%}
-- One row per customer (key `person_id`): a person with a won deal or an order, with the first purchase,
-- the acquisition channel, segment and region, and the purchase history in BG/NBD units. Time unit: the week
-- (7 days, fractional). The first purchase is purchase zero: frequency = repeat purchases, recency = weeks from the
-- first to the last purchase, age (T) = weeks from the first purchase to the end of the data, monetary_value = mean
-- revenue of the repeat purchases (null without any).
-- Acquisition channel: the channel with the largest share of the path of the person's first won deal under
-- closedloop__acquisition_attribution_model (first_touch: the path's first touch; ties go to the earlier touch);
-- a customer without a won deal (orders only) falls back to the CRM source channel of their first lead.
-- Revenue is split into acquisition (won deals) and recurring (orders), each with its margin.
with

purchases as (

    select * from {{ ref('int_customer_purchases') }}

),

people as (

    select person_id, original_source_channel, first_lead_id from {{ ref('int_people') }}

),

-- the touches of every won deal's path with the configured model's share
won_touches as (

    select person_id, conversion_id, converted_at, channel, touch_position, share_{{ model }} as share
    from {{ ref('int_conversion_touches') }}
    where conversion_type = 'deal_won'

),

won_channels as (

    select
        person_id,
        conversion_id,
        min(converted_at) as converted_at,
        channel,
        {{ exact_sum('share') }} as share,
        min(touch_position) as first_position
    from won_touches
    group by person_id, conversion_id, channel

),

acquisition as (

    select person_id, channel
    from (
        select
            person_id,
            channel,
            row_number() over (
                partition by person_id order by converted_at, conversion_id, share desc, first_position
            ) as pick
        from won_channels
    ) as ranked
    where pick = 1

),

leads as (

    select lead_id, segment, region from {{ ref('stg_crm__leads') }}

),

-- the end of the data: the newest event of any kind delivered (a customer's age is measured up to it)
data_ends as (

    select max(purchased_at) as event_at from purchases
    union all
    select max(created_at) from {{ ref('int_deals_valued') }}
    union all
    select max(occurred_at) from {{ ref('int_touchpoints_classified') }}

),

data_end as (

    select max(event_at) as data_end_at from data_ends

),

purchases_numbered as (

    select
        person_id,
        purchased_at,
        revenue,
        purchase_type,
        gross_margin,
        has_recorded_margin,
        row_number() over (partition by person_id order by purchased_at, purchase_id) as purchase_number,
        purchased_at > {{ dbt.dateadd('month', -12, 'data_end.data_end_at') }} as is_in_last_12_months
    from purchases
    cross join data_end

),

summarised as (

    select
        person_id,
        min(purchased_at) as first_purchase_at,
        max(purchased_at) as last_purchase_at,
        count(*) as purchase_count,
        {{ exact_sum('revenue') }} as total_revenue,
        max(case when purchase_number = 1 then revenue end) as first_purchase_revenue,
        {{ exact_sum('case when purchase_number > 1 then revenue end') }}
            / nullif(count(case when purchase_number > 1 then revenue end), 0) as monetary_value,
        coalesce({{ exact_sum('case when is_in_last_12_months then revenue end') }}, 0) as revenue_last_12_months,
        coalesce({{ exact_sum("case when purchase_type = 'deal_won' then revenue end") }}, 0) as acquisition_revenue,
        coalesce({{ exact_sum("case when purchase_type = 'order' then revenue end") }}, 0) as recurring_revenue,
        sum(case when purchase_type = 'order' then 1 else 0 end) as recurring_purchases,
        coalesce({{ exact_sum('revenue * gross_margin') }}, 0) as margin_revenue,
        coalesce({{ exact_sum("case when purchase_type = 'order' then revenue * gross_margin end") }}, 0)
            as recurring_margin_revenue,
        sum(case when has_recorded_margin then 1 else 0 end) as purchases_with_recorded_margin
    from purchases_numbered
    group by person_id

),

final as (

    select
        summarised.person_id,
        summarised.first_purchase_at,
        cast({{ dbt.date_trunc('month', 'summarised.first_purchase_at') }} as date) as first_purchase_month,
        summarised.last_purchase_at,
        coalesce(acquisition.channel, people.original_source_channel, 'unknown') as acquisition_channel,
        case when acquisition.channel is not null then 'attribution'
            when people.original_source_channel is not null then 'crm_source' else 'unknown' end
            as acquisition_channel_basis,
        coalesce(leads.segment, 'unknown') as segment,
        coalesce(leads.region, 'unknown') as region,
        summarised.purchase_count,
        summarised.total_revenue,
        summarised.first_purchase_revenue,
        summarised.purchase_count - 1 as frequency,
        cast({{ dbt.datediff('summarised.first_purchase_at', 'summarised.last_purchase_at', 'second') }} as {{ type_double() }})
            / 604800.0 as recency_weeks,
        cast({{ dbt.datediff('summarised.first_purchase_at', 'data_end.data_end_at', 'second') }} as {{ type_double() }})
            / 604800.0 as age_weeks,
        summarised.monetary_value,
        summarised.revenue_last_12_months,
        summarised.acquisition_revenue,
        summarised.recurring_revenue,
        summarised.recurring_purchases,
        summarised.margin_revenue,
        summarised.recurring_margin_revenue,
        summarised.purchases_with_recorded_margin,
        -- the margin of this customer's future orders: their own orders' (revenue-weighted), else the default
        cast(coalesce(summarised.recurring_margin_revenue / nullif(summarised.recurring_revenue, 0),
            {{ default_margin }}) as {{ type_double() }}) as recurring_gross_margin,
        {{ dbt.datediff('summarised.last_purchase_at', 'data_end.data_end_at', 'day') }} as days_since_last_purchase,
        data_end.data_end_at
    from summarised
    cross join data_end
    left join people on summarised.person_id = people.person_id
    left join acquisition on summarised.person_id = acquisition.person_id
    left join leads on people.first_lead_id = leads.lead_id

)

select * from final
