-- One row per month × channel: the touchpoints of the report's overview chart.
with

touchpoints as (

    select occurred_at, channel from {{ ref('fct_touchpoints') }}
    where occurred_at is not null

),

counted as (

    select
        cast({{ dbt.date_trunc('month', 'occurred_at') }} as date) as month,
        {{ label_or_not_set('channel') }} as channel,
        count(*) as touchpoints
    from touchpoints
    group by 1, 2

),

final as (

    select month, channel, cast(touchpoints as bigint) as touchpoints from counted

)

select * from final
