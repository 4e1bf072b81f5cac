{{ config(meta={'dagster': {'ref': {'name': 'fct_attribution_wide'}}}) }}
-- docs/attribution.md: every attributed touch carries exactly the channel and campaign of the touch itself.
-- Checked on fct_attribution_wide, whose rows fct_attribution repeats once per model with the same columns (and
-- assert_attribution_reconciles checks that every model has every touch): a tenth of fct_attribution's rows.
select attribution.conversion_id, attribution.touch_position, '{{ attribution_models()[0] }}' as model
from {{ ref('fct_attribution_wide') }} as attribution
inner join {{ ref('fct_touchpoints') }} as touchpoints on attribution.touchpoint_id = touchpoints.touchpoint_id
where not (
    {{ null_safe_equals('attribution.channel', 'touchpoints.channel') }}
    and {{ null_safe_equals('attribution.utm_source', 'touchpoints.utm_source') }}
    and {{ null_safe_equals('attribution.utm_medium', 'touchpoints.utm_medium') }}
    and {{ null_safe_equals('attribution.utm_campaign', 'touchpoints.utm_campaign') }}
)
