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
