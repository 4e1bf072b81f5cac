{#- Stage history of deals when the CRM delivers no deal_stage_history (docs/landing-zone.md): each run records a deal's stage
    and outcome as a new version when its updated_at moved. dbt_valid_from is the CRM's updated_at (the load time
    when the export has none), so a version starts when the change happened, not when the run saw it, and two
    warehouses built from the same deliveries agree. Built after the quality gate, without quarantined deals. -#}
{% snapshot snap_crm__deals %}

{{
    config(
        schema='intermediate',
        unique_key='deal_id',
        strategy='timestamp',
        updated_at='changed_at',
    )
}}

select
    deal_id,
    stage,
    outcome,
    closed_at,
    coalesce(updated_at, _loaded_at) as changed_at
from {{ ref('stg_crm__deals') }}
where {{ not_quarantined('deals', 'deal_id') }}

{% endsnapshot %}
