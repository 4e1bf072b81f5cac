{#- The measures of the ROI marts, summed from int_roi_by_campaign (all additive). -#}
{% macro roi_measures() -%}
    {{ return(['spend', 'attributed_leads', 'attributed_opportunities', 'attributed_pipeline', 'attributed_won_deals',
               'attributed_new_customers', 'attributed_revenue', 'attributed_lost_deals', 'attributed_lost_value']) }}
{%- endmacro %}

{#- The ROI marts' columns over a relation carrying roi_measures(): typed, with cost per lead, CAC, ROAS and ROI
    (null where their denominator is zero). One definition for mart_channel_roi and mart_campaign_roi. -#}
{% macro roi_columns() -%}
    {%- for measure in roi_measures() %}
        cast({{ measure }} as {{ type_double() }}) as {{ measure }},
    {%- endfor %}
        cast(case when attributed_leads > 0 then spend / attributed_leads end as {{ type_double() }}) as cost_per_lead,
        cast(case when attributed_new_customers > 0 then spend / attributed_new_customers end as {{ type_double() }}) as cac,
        cast(case when spend > 0 then attributed_revenue / spend end as {{ type_double() }}) as roas,
        cast(case when spend > 0
            then (attributed_revenue * {{ number_setting('closedloop__default_gross_margin') }} - spend) / spend end
            as {{ type_double() }}) as roi
{%- endmacro %}

{#- The measures of roi_measures(), each summed (exact_sum): a channel's rows are its campaigns'. -#}
{% macro roi_sums() -%}
    {%- for measure in roi_measures() %}
        {{ exact_sum(measure) }} as {{ measure }}{{ ',' if not loop.last }}
    {%- endfor %}
{%- endmacro %}
