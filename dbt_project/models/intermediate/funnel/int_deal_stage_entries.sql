{%- set stages = ['qualification', 'presentation', 'proposal', 'negotiation', 'closed_won', 'closed_lost'] -%}
{#- the snapshot's table, when a run has taken it (looked up by name: a unit test's ref is a fixture, not a table) -#}
{%- set snapshot_relation = adapter.get_relation(
    database=target.database, schema='intermediate', identifier='snap_crm__deals') if execute else none -%}
-- depends_on: {{ ref('snap_crm__deals') }}
-- One row per deal × stage it is known to have been in, with when it first entered it (docs/metrics.md *Funnel and
-- speed-to-lead*). From the delivered deal_stage_history for the deals it covers; for the others from the dbt snapshot
-- of deals (snap_crm__deals: a version per change, entered at the CRM's updated_at). The deal's current stage is always
-- an entry (entered_at null when no history or snapshot dates it). Before the snapshot has ever been taken, the deals'
-- current versions stand in for it.
with

deals as (

    select deal_id, stage, updated_at, created_at from {{ ref('stg_crm__deals') }}
    where {{ not_quarantined('deals', 'deal_id') }}

),

history as (

    select deal_id, stage, entered_at from {{ ref('stg_crm__deal_stage_history') }}
    where
        {{ not_quarantined('deal_stage_history', composite_key(['deal_id', 'stage', 'entered_at'])) }}
        and stage is not null

),

snapshotted as (

    {% if snapshot_relation is not none %}
    select deal_id, stage, dbt_valid_from as entered_at from {{ ref('snap_crm__deals') }}
    {% else %}
        select deal_id, stage, coalesce(updated_at, created_at) as entered_at from deals
    {% endif %}

),

history_deals as (

    select distinct deal_id from history

),

entries as (

    select history.deal_id, history.stage, history.entered_at, 'deal_stage_history' as entry_source
    from history
    inner join deals on history.deal_id = deals.deal_id

    union all

    select snapshotted.deal_id, snapshotted.stage, snapshotted.entered_at, 'snapshot' as entry_source
    from snapshotted
    inner join deals on snapshotted.deal_id = deals.deal_id
    left join history_deals on snapshotted.deal_id = history_deals.deal_id
    where history_deals.deal_id is null and snapshotted.stage is not null

    union all

    select deal_id, stage, cast(null as {{ dbt.type_timestamp() }}) as entered_at, 'current' as entry_source
    from deals
    where stage is not null

),

final as (

    select
        deal_id,
        stage,
        case stage
            {%- for stage in stages %}
                when '{{ stage }}' then {{ loop.index }}
            {%- endfor %}
        end as stage_order,
        min(entered_at) as entered_at,
        min(case when entry_source = 'current' then null else entry_source end) as entry_source
    from entries
    group by deal_id, stage

)

select * from final
