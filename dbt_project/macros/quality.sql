{# The quality tables are written by the gate (orchestration/lib/quality/), read by the models. dbt creates them
   before every run so that models compile and build on a fresh warehouse, before any gate has run. #}
{% macro create_quality_tables() %}
    create schema if not exists quality;
    create table if not exists quality.quarantined_keys (
        dataset varchar(64),
        record_key varchar(512)
    );
    create table if not exists quality.quarantine (
        run_id varchar(64),
        dataset varchar(64),
        record_key varchar(512),
        rule varchar(128),
        value varchar(1024),
        quarantined_at timestamp
    );
    create table if not exists quality.runs (
        run_id varchar(64),
        started_at timestamp,
        finished_at timestamp,
        status varchar(16),
        rows_checked bigint,
        rows_quarantined bigint,
        blocking_reason varchar(4000),
        checked_through timestamp
    );
    create table if not exists quality.results (
        run_id varchar(64),
        dataset varchar(64),
        rule varchar(128),
        expectation varchar(128),
        severity varchar(16),
        passed boolean,
        rows_checked bigint,
        failing_rows bigint,
        failing_rate {{ type_double() }},
        sample_keys varchar(4000),
        checked_at timestamp,
        failing_since timestamp
    );
{% endmacro %}

{# The same tables, created now: for a night refused before dbt ever ran on this warehouse (`dbt run-operation
   install_quality_tables`, called by the refused-night hook), since a run-operation only renders a macro's text. #}
{% macro install_quality_tables() %}
    {% do run_query(hook_statements(create_quality_tables())) %}
{% endmacro %}

{# A where-clause condition: the row has a key and the latest gate run did not quarantine it. #}
{% macro not_quarantined(dataset, key_expression) -%}
    {{ key_expression }} is not null and not exists (
        select 1 from {{ source('quality', 'quarantined_keys') }} as quarantined
        where quarantined.dataset = '{{ dataset }}' and quarantined.record_key = {{ key_expression }}
    )
{%- endmacro %}

{# An incremental model keeps rows it built on earlier nights; when a later delivery makes such a row's key
   quarantined (a conflicting re-delivery), a rebuild would leave it out, so the incremental table drops it too. #}
{% macro delete_quarantined(dataset, key_column) -%}
    {%- if target.type == 'spark' %}select 1{% else -%}
    delete from {{ this }} where {{ key_column }} in (
        select record_key from {{ source('quality', 'quarantined_keys') }} where dataset = '{{ dataset }}'
    )
    {%- endif %}
{%- endmacro %}

{# The key a quarantined row is known by: its id, or where it came from when the id is missing. #}
{% macro record_key(key_expression, relation_alias) -%}
    coalesce({{ key_expression }}, {{ dbt.concat([relation_alias ~ "._source_file", "':'", dbt.cast(relation_alias ~ "._row_number", api.Column.translate_type('string'))]) }})
{%- endmacro %}

{# Ids delivered more than once with different content for the same version (`version_column`, e.g. updated_at;
   none when the source has no version): both deliveries are quarantined. The same content twice is one row. The
   content is every delivered column of the raw table (lineage columns start with `_`). Only the ids delivered more
   than once are hashed: on tens of millions of rows the hash, not the count, is the cost. #}
{% macro conflicting_versions(relation, key, version_column=none, scope=none) -%}
    {%- set columns = [] -%}
    {%- if execute -%}
        {%- for column in adapter.get_columns_in_relation(relation) if not column.name.startswith('_') -%}
            {%- do columns.append(column.quoted) -%}
        {%- endfor -%}
    {%- endif -%}
    {#- at parse time, or for a raw table not created yet (sqlfluff lints on an empty warehouse), the key stands in
        for the columns so the SQL stays well-formed -#}
    {%- if not columns -%}
        {%- do columns.append(key) -%}
    {%- endif -%}
    select distinct delivered_key as record_key
    from (
        select
            trim({{ key }}) as delivered_key,
            {% if version_column %}coalesce(trim({{ version_column }}), ''){% else %}''{% endif %} as delivered_version,
            {{ surrogate_key(columns) }} as content
        from {{ relation }}
        where trim({{ key }}) in (
            select trim({{ key }}) from {{ relation }}
            {% if scope %}where trim({{ key }}) in ({{ scope }}){% endif %}
            group by trim({{ key }}) having count(*) > 1
        )
    ) as deliveries
    where delivered_key is not null
    group by delivered_key, delivered_version
    having count(distinct content) > 1
{%- endmacro %}

{# The text key of a row without a single id column (ad spend, fx rates, stage history): the parts joined by `|`,
   a missing part as empty text. Quality views and the models that skip quarantined rows use the same key. #}
{% macro composite_key(columns) -%}
    {%- set parts = [] -%}
    {%- for column in columns -%}
        {%- do parts.append("coalesce(" ~ dbt.cast(column, api.Column.translate_type('string')) ~ ", '')") -%}
        {%- if not loop.last %}{% do parts.append("'|'") %}{% endif -%}
    {%- endfor -%}
    {{ dbt.concat(parts) }}
{%- endmacro %}

{# True when an amount's currency is not the base currency and no staged rate covers its date (a missing rate
   is a quality failure, never a silent 1.0): the currency's first rate is later than the date, or there is none.
   A correlated subquery on equality only, which every engine (Spark too) can plan. #}
{% macro lacks_fx_rate(currency_column, date_expr) -%}
    (
        {{ currency_column }} is not null
        and {{ currency_column }} <> '{{ var("closedloop__base_currency") }}'
        and not coalesce((
            select min(fx_rates.rate_date) from {{ ref('stg_finance__fx_rates') }} as fx_rates
            where fx_rates.currency = {{ currency_column }}
        ) <= {{ date_expr }}, false)
    )
{%- endmacro %}
