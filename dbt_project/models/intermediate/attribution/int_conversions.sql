-- One row per conversion: a person's first lead, a deal's opportunity creation, and its win or loss, valued in the
-- base currency, with the times that place the milestone touches on its path (docs/attribution.md).
with

deals as (

    select * from {{ ref('int_deals_valued') }}

),

leads as (

    -- a quarantined lead lends nothing, not even its source fields (which of its conflicting versions staging
    -- shows depends on delivery order, so a rebuild could show another)
    select lead_id, created_at, source_channel, source_campaign from {{ ref('stg_crm__leads') }}
    where {{ not_quarantined('leads', 'lead_id') }}

),

lead_people as (

    select lead_id, person_id, person_lead_number from {{ ref('int_lead_people') }}

),

-- when each person first became a lead: the lead-creation milestone of all their conversions
people_first_leads as (

    select person_id, created_at as person_first_lead_at
    from lead_people
    inner join leads on lead_people.lead_id = leads.lead_id
    where lead_people.person_lead_number = 1

),

-- one per person, at their earliest lead: merged duplicates do not convert again (docs/attribution.md)
leads_created as (

    select
        cast(null as {{ dbt.type_string() }}) as deal_id,
        leads.lead_id,
        'lead_created' as conversion_type,
        leads.created_at as converted_at,
        cast(null as {{ type_double() }}) as amount,
        cast(null as {{ dbt.type_string() }}) as currency,
        cast(1 as {{ type_double() }}) as value,
        cast(null as timestamp) as deal_created_at,
        leads.lead_id as conversion_key
    from leads
    inner join lead_people on leads.lead_id = lead_people.lead_id
    where lead_people.person_lead_number = 1 and leads.created_at is not null

),

opportunities as (

    select
        deal_id, lead_id, 'opportunity_created' as conversion_type, created_at as converted_at, amount,
        currency, amount_base as value, created_at as deal_created_at, deal_id as conversion_key
    from deals
    where created_at is not null

),

closed as (

    select
        deal_id,
        lead_id,
        {{ dbt.concat(["'deal_'", 'outcome']) }} as conversion_type,
        closed_at as converted_at,
        amount,
        currency, amount_base as value, created_at as deal_created_at, deal_id as conversion_key
    from deals
    where outcome in ('won', 'lost') and closed_at is not null

),

conversions as (

    select * from leads_created
    union all
    select * from opportunities
    union all
    select * from closed

),

final as (

    select
        -- hash of the type and the deal (the lead for lead_created)
        {{ surrogate_key(['conversions.conversion_type', 'conversions.conversion_key']) }} as conversion_id,
        conversions.conversion_type,
        lead_people.person_id,
        conversions.deal_id,
        conversions.lead_id,
        conversions.converted_at,
        conversions.value,
        conversions.amount,
        conversions.currency,
        leads.source_channel,
        leads.source_campaign,
        people_first_leads.person_first_lead_at,
        conversions.deal_created_at,
        -- a won deal makes a new customer when it is the person's first (CAC counts these)
        case
            when conversions.conversion_type = 'deal_won' then
                row_number() over (
                    partition by coalesce(lead_people.person_id, conversions.lead_id), conversions.conversion_type
                    order by conversions.converted_at, conversions.deal_id
                ) = 1
        end as is_new_customer
    from conversions
    left join leads on conversions.lead_id = leads.lead_id
    left join lead_people on conversions.lead_id = lead_people.lead_id
    left join people_first_leads on lead_people.person_id = people_first_leads.person_id

)

select * from final
