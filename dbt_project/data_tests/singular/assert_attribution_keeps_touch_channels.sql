{{ config(meta={'dagster': {'ref': {'name': 'fct_attribution'}}}) }}
-- docs/attribution.md: every attributed touch carries exactly the channel and campaign of the touch itself.
select attribution.conversion_id, attribution.touch_position, attribution.model
from {{ ref('fct_attribution') }} as attribution
inner join {{ ref('fct_touchpoints') }} as touchpoints on touchpoints.touchpoint_id = attribution.touchpoint_id
where not (
    {{ null_safe_equals('attribution.channel', 'touchpoints.channel') }}
    and {{ null_safe_equals('attribution.utm_source', 'touchpoints.utm_source') }}
    and {{ null_safe_equals('attribution.utm_medium', 'touchpoints.utm_medium') }}
    and {{ null_safe_equals('attribution.utm_campaign', 'touchpoints.utm_campaign') }}
)
