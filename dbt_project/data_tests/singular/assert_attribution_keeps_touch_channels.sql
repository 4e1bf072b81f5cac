{{ config(meta={'dagster': {'ref': {'name': 'fct_attribution'}}}) }}
-- docs/attribution.md: every attributed touch carries exactly the channel and campaign of the touch itself.
-- Checked on one model's rows: fct_attribution repeats each path touch once per model from one row of
-- int_conversion_touches, so the other models' rows carry the same columns (and assert_attribution_reconciles
-- checks that every model has every touch); on DuckDB, where fct_attribution is a view, this reads a tenth of it.
select attribution.conversion_id, attribution.touch_position, attribution.model
from {{ ref('fct_attribution') }} as attribution
inner join {{ ref('fct_touchpoints') }} as touchpoints on touchpoints.touchpoint_id = attribution.touchpoint_id
where attribution.model = '{{ attribution_models()[0] }}' and not (
    {{ null_safe_equals('attribution.channel', 'touchpoints.channel') }}
    and {{ null_safe_equals('attribution.utm_source', 'touchpoints.utm_source') }}
    and {{ null_safe_equals('attribution.utm_medium', 'touchpoints.utm_medium') }}
    and {{ null_safe_equals('attribution.utm_campaign', 'touchpoints.utm_campaign') }}
)
