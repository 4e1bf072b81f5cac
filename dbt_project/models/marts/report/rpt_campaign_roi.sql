-- One row per attribution model × channel × campaign label, all months together: spend beside the leads, new
-- customers and revenue the model credits to the campaign, with cost per lead, CAC and ROAS.
with

roi as (

    select * from {{ ref('mart_campaign_roi') }}

),

labelled as (

    select
        model,
        {{ label_or_not_set('channel') }} as channel,
        {{ dbt.concat(["coalesce(utm_source, '')", "' / '", "coalesce(utm_medium, '')", "' / '",
                       "coalesce(utm_campaign, '(none)')"]) }} as campaign,
        spend,
        attributed_leads,
        attributed_new_customers,
        attributed_revenue
    from roi

),

summed as (

    select
        model,
        channel,
        campaign,
        {{ exact_sum('spend') }} as spend,
        {{ exact_sum('attributed_leads') }} as attributed_leads,
        {{ exact_sum('attributed_new_customers') }} as attributed_new_customers,
        {{ exact_sum('attributed_revenue') }} as attributed_revenue
    from labelled
    group by 1, 2, 3

),

final as (

    select
        model,
        channel,
        campaign,
        cast(spend as {{ type_double() }}) as spend,
        cast(attributed_leads as {{ type_double() }}) as attributed_leads,
        cast(attributed_new_customers as {{ type_double() }}) as attributed_new_customers,
        cast(attributed_revenue as {{ type_double() }}) as attributed_revenue,
        cast(case when attributed_leads > 0 then spend / attributed_leads end as {{ type_double() }}) as cost_per_lead,
        cast(case when attributed_new_customers > 0 then spend / attributed_new_customers end as {{ type_double() }})
            as cac,
        cast(case when spend > 0 then attributed_revenue / spend end as {{ type_double() }}) as roas
    from summed

)

select * from final
