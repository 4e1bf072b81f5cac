-- One row per purchase (key `purchase_id`): a won deal or an order, with its person and its value in the base currency
-- (docs/metrics.md *Customers, LTV and RFM*). The person of a won deal is the person of its lead; the person of an
-- order is the person of its lead when the lead is known, else of its email, else of its phone. Purchases without a
-- person are left out. gross_margin: the order's own where it carries one, else closedloop__default_gross_margin (won
-- deals carry none).
{%- set default_margin = number_setting('closedloop__default_gross_margin') %}
with

deals as (

    select deal_id, lead_id, closed_at, amount_base
    from {{ ref('int_deals_valued') }}
    where outcome = 'won' and closed_at is not null

),

lead_people as (

    select lead_id, person_id from {{ ref('int_lead_people') }}

),

orders as (

    select order_id, ordered_at, lead_id, email, phone, amount, currency, gross_margin
    from {{ ref('stg_commerce__orders') }}
    where ordered_at is not null and {{ not_quarantined('orders', 'order_id') }}

),

identity_people as (

    select identifier, person_id from {{ source('identity', 'identity_people') }}

),

orders_valued as (

    select
        orders.order_id,
        orders.ordered_at,
        orders.lead_id,
        orders.email,
        orders.phone,
        orders.gross_margin,
        {{ base_amount('orders.amount', 'orders.currency') }} as amount_base
    from orders
    {{ fx_join('orders.currency', 'cast(orders.ordered_at as date)') }}

),

won_deals as (

    select
        {{ dbt.concat(["'deal:'", 'deals.deal_id']) }} as purchase_id,
        lead_people.person_id,
        'deal_won' as purchase_type,
        deals.closed_at as purchased_at,
        deals.amount_base as revenue,
        cast({{ default_margin }} as {{ type_double() }}) as gross_margin,
        false as has_recorded_margin
    from deals
    inner join lead_people on deals.lead_id = lead_people.lead_id

),

orders_of_people as (

    select
        {{ dbt.concat(["'order:'", 'orders_valued.order_id']) }} as purchase_id,
        coalesce(by_lead.person_id, by_email.person_id, by_phone.person_id) as person_id,
        'order' as purchase_type,
        orders_valued.ordered_at as purchased_at,
        orders_valued.amount_base as revenue,
        cast(coalesce(orders_valued.gross_margin, {{ default_margin }}) as {{ type_double() }}) as gross_margin,
        orders_valued.gross_margin is not null as has_recorded_margin
    from orders_valued
    left join lead_people as by_lead on orders_valued.lead_id = by_lead.lead_id
    left join identity_people as by_email on by_email.identifier = {{ identifier('email', 'orders_valued.email') }}
    left join identity_people as by_phone on by_phone.identifier = {{ identifier('phone', 'orders_valued.phone') }}

),

final as (

    select purchase_id, person_id, purchase_type, purchased_at, revenue, gross_margin, has_recorded_margin
    from won_deals
    union all
    select purchase_id, person_id, purchase_type, purchased_at, revenue, gross_margin, has_recorded_margin
    from orders_of_people
    where person_id is not null

)

select * from final
