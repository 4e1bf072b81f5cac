{# The people tables are written by identity resolution (orchestration/defs/identity/, a Python step between
   staging and the marts). dbt creates them empty before every run, like the quality tables, so that the models
   compile, unit-test and build on a fresh warehouse before identity resolution has ever run. #}
{% macro create_identity_tables() %}
    create schema if not exists intermediate;
    create table if not exists intermediate.identity_people (
        identifier {{ dbt.type_string() }},
        person_id {{ dbt.type_string() }}
    );
    create table if not exists intermediate.identity_hashes (
        person_id {{ dbt.type_string() }},
        email_hash {{ dbt.type_string() }},
        phone_hash {{ dbt.type_string() }}
    );
{% endmacro %}

{# A typed identifier (`email:ann@acme.io`, `lead:L1`) as identity resolution keys them; null when the value is. #}
{% macro identifier(kind, expr) -%}
    '{{ kind }}:' || {{ expr }}
{%- endmacro %}

{# The value of a typed identifier of a known kind: `identifier_value('email')` on `email:ann@acme.io` is the
   address (whatever the value itself contains). #}
{% macro identifier_value(kind, column='identifier') -%}
    {{ dbt.right(column, dbt.length(column) ~ ' - ' ~ ((kind ~ ':') | length)) }}
{%- endmacro %}

{# The identity graph's edges of `records` (columns hub, email and phone, typed identifiers, any of them null): the
   hub (a lead or a cookie) links to the email and to the phone; without a hub the email links to the phone; a
   record with one identifier is that identifier seen alone (right_identifier null). `carry`: columns of `records`
   kept on every edge. One row per record and edge, not distinct. #}
{% macro identity_pairs(records, carry=[]) -%}
    {%- set kept = (', ' ~ carry | join(', ')) if carry else '' -%}
    select hub as left_identifier, email as right_identifier{{ kept }}
    from {{ records }}
    where hub is not null and email is not null
    union all
    select hub, phone{{ kept }}
    from {{ records }}
    where hub is not null and phone is not null
    union all
    select email, phone{{ kept }}
    from {{ records }}
    where hub is null and email is not null and phone is not null
    union all
    select coalesce(hub, email, phone), cast(null as {{ dbt.type_string() }}){{ kept }}
    from {{ records }}
    where
        (case when hub is null then 0 else 1 end)
        + (case when email is null then 0 else 1 end)
        + (case when phone is null then 0 else 1 end) = 1
{%- endmacro %}

{# How int_touchpoint_people is built tonight (docs/identity.md#the-touches-people). The table
   `intermediate.touchpoint_people_built` says which people and which touchpoint loads its last build read:
   - 'same': identity has not resolved since: the touches loaded since, with the same people;
   - 'moves': tonight's resolution updated the people it read: the touches loaded since, and the touches of the
     people merged tonight (`identity_moves`) under their new key;
   - 'rebuild': anything else (a whole solve, no record of the last build, the first build, Spark): every touch. #}
{% macro touchpoint_people_mode() %}
    {%- if not execute or target.type == 'spark' or not is_incremental() -%}{{ return('rebuild') }}{%- endif -%}
    {%- set built = load_relation(source('identity', 'touchpoint_people_built')) -%}
    {%- set state = load_relation(source('identity', 'identity_state')) -%}
    {%- if built is none or load_relation(source('identity', 'identity_moves')) is none
        or not has_column(state, 'updated_from') -%}
        {{ return('rebuild') }}
    {%- endif -%}
    {%- set found = run_query(
        'select built.people_resolved_at, built.touches_through, state.resolved_at, state.updated_from from '
        ~ built ~ ' as built cross join ' ~ state ~ ' as state'
    ).rows -%}
    {%- if found | length != 1 or found[0][0] is none or found[0][1] is none -%}
        {{ return('rebuild') }}
    {%- elif found[0][0] == found[0][2] -%}
        {{ return('same') }}
    {%- elif found[0][0] == found[0][3] -%}
        {{ return('moves') }}
    {%- endif -%}
    {{ return('rebuild') }}
{% endmacro %}

{# After a build of int_touchpoint_people: the rows of touches that belong to nobody go (an incremental build
   writes every touch it read, with a null person when it has none), and the build's record is written: the
   people it read and up to which load identity had read the touchpoints (the next build reads those loaded after).
   Without identity's state there is no record, and the next build reads every touch. #}
{% macro after_touchpoint_people() -%}
    {%- if target.type == 'spark' %}select 1{% else -%}
    {%- set built = source('identity', 'touchpoint_people_built') -%}
    {%- set state = load_relation(source('identity', 'identity_state')) -%}
    {%- set read = load_relation(source('identity', 'identity_touchpoints_read')) -%}
    delete from {{ this }} where person_id is null;
    drop table if exists {{ built }};
    {%- if state is not none and read is not none and has_column(state, 'resolved_at') %}
    create table {{ built }} as
    select state.resolved_at as people_resolved_at, touchpoints_read.touchpoints_through as touches_through
    from {{ state }} as state cross join {{ read }} as touchpoints_read
    {%- if target.type == 'postgres' %};
    analyze {{ built }}
    {%- endif %}
    {%- endif %}
    {%- endif %}
{%- endmacro %}
