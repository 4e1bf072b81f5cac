{#- The timestamp-strategy snapshot on Spark's Parquet tables, which dbt-spark only supports on Delta, Iceberg or
    Hudi (they can merge). Same columns and versions as dbt's snapshot elsewhere: a row of the source whose
    `updated_at` is newer than its key's current version becomes a new current version (valid from that time),
    and closes the previous one. Parquet takes no update, so the next table is built beside the old one and
    written over it. Keys that left the source stay as they were (dbt's default, no hard deletes). -#}
{% materialization snapshot, adapter='spark' %}
    {%- set key = config.get('unique_key') -%}
    {%- set updated_at = config.get('updated_at') -%}
    {%- set target_relation = api.Relation.create(database=none, schema=model.schema, identifier=model.alias, type='table') -%}
    {%- set existing = adapter.get_relation(database=none, schema=model.schema, identifier=model.alias) -%}
    {%- set next_relation = api.Relation.create(database=none, schema=model.schema, identifier=model.alias ~ '__next', type='table') -%}
    {%- set source_sql = 'select *, ' ~ updated_at ~ ' as dbt_updated_at from (' ~ model['compiled_code'] ~ ') as snapshot_source' -%}

    {{ run_hooks(pre_hooks) }}
    {% do run_query('create database if not exists ' ~ model.schema) %}
    {% if existing is none %}
        {% call statement('main') %}
            create table {{ target_relation }} using parquet as
            select *, md5(concat_ws('|', cast({{ key }} as string), cast(dbt_updated_at as string))) as dbt_scd_id,
                dbt_updated_at as dbt_valid_from, cast(null as timestamp) as dbt_valid_to
            from ({{ source_sql }}) as first_versions
        {% endcall %}
    {% else %}
        {% do run_query('drop table if exists ' ~ next_relation) %}
        {% call statement('main') %}
            create table {{ next_relation }} using parquet as
            with
            current_versions as (
                select * from {{ target_relation }} where dbt_valid_to is null
            ),
            changed as (
                select incoming.* from ({{ source_sql }}) as incoming
                left join current_versions on current_versions.{{ key }} = incoming.{{ key }}
                where current_versions.{{ key }} is null or incoming.dbt_updated_at > current_versions.dbt_updated_at
            ),
            history as (
                select snapshotted.* except (dbt_valid_to),
                    case when snapshotted.dbt_valid_to is null and changed.{{ key }} is not null
                        then changed.dbt_updated_at else snapshotted.dbt_valid_to end as dbt_valid_to
                from {{ target_relation }} as snapshotted
                left join changed on changed.{{ key }} = snapshotted.{{ key }}
            )
            select * from history
            union all
            select changed.*, md5(concat_ws('|', cast({{ key }} as string), cast(dbt_updated_at as string))) as dbt_scd_id,
                dbt_updated_at as dbt_valid_from, cast(null as timestamp) as dbt_valid_to
            from changed
        {% endcall %}
        {% do run_query('insert overwrite table ' ~ target_relation ~ ' select * from ' ~ next_relation) %}
        {% do run_query('drop table if exists ' ~ next_relation) %}
    {% endif %}
    {{ run_hooks(post_hooks) }}
    {{ return({'relations': [target_relation]}) }}
{% endmaterialization %}
