-- One row per content (content_id, else page path): the share of won customers who touched it before their first
-- win, the share of the other leads (lost or never converting) who touched it, and the lift between the two.
-- A lead with a deal still open is neither: it is left out of the comparison until the deal closes.
with

conversions as (

    select conversion_type, person_id, deal_id, converted_at from {{ ref('int_conversions') }}
    where person_id is not null

),

touch_people as (

    select touchpoint_id, person_id, occurred_at from {{ ref('int_touchpoint_people') }}

),

touches as (

    select
        touchpoint_id,
        case when content_id is not null then 'content_id' else 'page_path' end as content_kind,
        coalesce(content_id, page_path) as content_key
    from {{ ref('int_touchpoints_classified') }}
    where coalesce(content_id, page_path) is not null

),

won_people as (

    select person_id, min(converted_at) as first_won_at from conversions
    where conversion_type = 'deal_won'
    group by person_id

),

-- people with a deal that is neither won nor lost yet
open_deal_people as (

    select distinct opened.person_id
    from conversions as opened
    left join conversions as closed
        on opened.deal_id = closed.deal_id and closed.conversion_type in ('deal_won', 'deal_lost')
    where opened.conversion_type = 'opportunity_created' and closed.deal_id is null

),

other_leads as (

    select distinct conversions.person_id from conversions
    left join won_people on conversions.person_id = won_people.person_id
    left join open_deal_people on conversions.person_id = open_deal_people.person_id
    where
        conversions.conversion_type = 'lead_created' and won_people.person_id is null
        and open_deal_people.person_id is null

),

-- the people either share counts (the two groups are disjoint), each with the moment up to which a touch counts:
-- a won customer's first win, any time for the other leads. Most touches are anonymous visitors', which count in
-- neither, so they are left out before the content grouping, not after
compared_people as (

    select person_id, true as is_won, first_won_at as counts_until from won_people
    union all
    select person_id, false as is_won, cast(null as timestamp) as counts_until from other_leads

),

-- one pass over the compared people's touches: per content, the distinct won customers who touched it by their
-- first win and the distinct other leads who touched it at all
reach as (

    select
        touches.content_kind,
        touches.content_key,
        count(distinct case
            when touch_people.occurred_at <= compared_people.counts_until then compared_people.person_id
        end) as won_customers_touched,
        count(distinct case
            when not compared_people.is_won then compared_people.person_id
        end) as other_leads_touched
    from touch_people
    inner join compared_people on touch_people.person_id = compared_people.person_id
    inner join touches on touch_people.touchpoint_id = touches.touchpoint_id
    group by touches.content_kind, touches.content_key

),

totals as (

    select
        (select count(*) from won_people) as won_customers,
        (select count(*) from other_leads) as other_leads

),

final as (

    select
        reach.content_key,
        reach.content_kind,
        cast(reach.won_customers_touched as bigint) as won_customers_touched,
        cast(totals.won_customers as bigint) as won_customers,
        cast(case
            when totals.won_customers > 0
                then 1.0 * reach.won_customers_touched / totals.won_customers
        end as {{ type_double() }}) as won_share,
        cast(reach.other_leads_touched as bigint) as other_leads_touched,
        cast(totals.other_leads as bigint) as other_leads,
        cast(case
            when totals.other_leads > 0
                then 1.0 * reach.other_leads_touched / totals.other_leads
        end as {{ type_double() }}) as other_share,
        cast(case
            when reach.other_leads_touched > 0 and totals.won_customers > 0
                then
                    (1.0 * reach.won_customers_touched / totals.won_customers)
                    / (1.0 * reach.other_leads_touched / totals.other_leads)
        end as {{ type_double() }}) as lift
    from reach
    cross join totals
    where reach.won_customers_touched > 0 or reach.other_leads_touched > 0

)

select * from final
