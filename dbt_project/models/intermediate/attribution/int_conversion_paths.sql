{{
    config(
        materialized=incremental_where_supported(),
        unique_key='conversion_id',
        incremental_strategy='delete+insert',
        on_schema_change='sync_all_columns',
        pre_hook="{{ without_nested_loops() }}",
        post_hook="{{ delete_vanished_conversions() }}",
    )
}}
-- One row per conversion: its path as the Markov chain sees it (channels in order, consecutive repeats collapsed,
-- joined by '>') and its distinct channel set as Shapley sees it (sorted, joined by ','). Incremental: only the
-- conversions whose touches int_conversion_touches rebuilt since this table's last build.
with

path_touches as (

    select conversion_id, touch_position, channel, built_at from {{ ref('int_conversion_touches') }}
    {% if is_incremental_with('built_at') -%}
    where built_at > (select max(built_at) from {{ this }})
    {%- endif %}

),

conversions as (

    select conversion_id, conversion_type, converted_at from {{ ref('int_conversions') }}

),

with_previous as (

    select
        conversion_id,
        touch_position,
        channel,
        lag(channel) over (partition by conversion_id order by touch_position) as previous_channel,
        built_at
    from path_touches

),

sequences as (

    select
        conversion_id,
        {{ ordered_listagg('channel', "'>'", 'touch_position') }} as channel_path,
        max(built_at) as built_at
    from with_previous
    where previous_channel is null or previous_channel <> channel
    group by conversion_id

),

channel_sets as (

    select
        conversion_id,
        count(*) as channel_count,
        {{ ordered_listagg('channel', "','", 'channel') }} as channel_set
    from (select distinct conversion_id, channel from path_touches) as distinct_channels
    group by conversion_id

),

final as (

    select
        conversions.conversion_id,
        conversions.conversion_type,
        cast({{ dbt.date_trunc('month', 'conversions.converted_at') }} as date) as path_month,
        sequences.channel_path,
        channel_sets.channel_set,
        channel_sets.channel_count,
        sequences.built_at
    from conversions
    inner join sequences on conversions.conversion_id = sequences.conversion_id
    inner join channel_sets on conversions.conversion_id = channel_sets.conversion_id

)

select * from final
