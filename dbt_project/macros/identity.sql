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
