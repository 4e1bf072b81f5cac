{#- Attribution parameters (docs/attribution.md), read from the closedloop__ vars in dbt_project.yml. -#}

{# The models fct_attribution publishes, in the order of docs/attribution.md; an unknown name is a configuration error. #}
{% macro attribution_models() -%}
    {%- set chosen = var('closedloop__attribution_models') -%}
    {%- set known = ['first_touch', 'last_touch', 'last_non_direct', 'linear', 'position_based', 'time_decay',
                     'j_shaped', 'inverse_j', 'w_shaped', 'full_path', 'markov', 'shapley'] -%}
    {%- for m in chosen if m not in known -%}
        {{ exceptions.raise_compiler_error("closedloop__attribution_models: unknown model '" ~ m ~ "' (known: " ~ known | join(', ') ~ ")") }}
    {%- endfor -%}
    {{ return(known | select('in', chosen) | list) }}
{%- endmacro %}

{# The columns that place a path touch, in fct_attribution_wide's order before its shares (fct_attribution_rule_based
   has the same). #}
{% macro attribution_touch_columns() -%}
    {{ return(['conversion_id', 'conversion_type', 'person_id', 'lead_id', 'deal_id', 'converted_at', 'touchpoint_id',
               'touch_position', 'path_length', 'channel', 'utm_source', 'utm_medium', 'utm_campaign']) }}
{%- endmacro %}

{# The data-driven models among attribution_models() (markov, shapley): their shares are a per-night weight of the
   conversion's channel set, not a rule over the path. They come last in attribution_models()' order. #}
{% macro data_driven_models() -%}
    {{ return(['markov', 'shapley'] | select('in', attribution_models()) | list) }}
{%- endmacro %}

{# The conversion types of docs/attribution.md, in their order. #}
{% macro conversion_types() -%}
    {{ return(['lead_created', 'opportunity_created', 'deal_won', 'deal_lost']) }}
{%- endmacro %}

{# One row per published model (column `model`), to cross join with. #}
{% macro attribution_models_relation() -%}
    {%- for model in attribution_models() %}
    select '{{ model }}' as model{% if not loop.last %} union all{% endif %}
    {%- endfor %}
{%- endmacro %}

{# The distinct lookbacks in use, one per conversion type at most. #}
{% macro lookbacks_in_use() -%}
    {%- set lookbacks = [] -%}
    {%- for t in conversion_types() if lookback_days_for(t) not in lookbacks -%}
        {%- do lookbacks.append(lookback_days_for(t)) -%}
    {%- endfor -%}
    {{ return(lookbacks) }}
{%- endmacro %}

{# Lookback in days for a conversion type: the per-type override, else the default. #}
{% macro lookback_days_for(conversion_type) -%}
    {{ return(var('closedloop__lookback_days_by_type').get(conversion_type, var('closedloop__lookback_days')) | int) }}
{%- endmacro %}

{# The lookback as a SQL expression of a conversion-type column. #}
{% macro lookback_days(type_column) -%}
    case {{ type_column }}
    {%- for t in conversion_types() %}
        when '{{ t }}' then {{ lookback_days_for(t) }}
    {%- endfor %}
    end
{%- endmacro %}

{# The share of a touch under an n-touch rule with fixed first/last weights (U, J, inverse J; docs/attribution.md). #}
{% macro shaped_share(position, length, first, last, two_first) -%}
    case
        when {{ length }} = 1 then 1.0
        when {{ length }} = 2 then case when {{ position }} = 1 then {{ two_first }} else 1.0 - {{ two_first }} end
        when {{ position }} = 1 then {{ first }}
        when {{ position }} = {{ length }} then {{ last }}
        else (1.0 - {{ first }} - {{ last }}) / ({{ length }} - 2)
    end
{%- endmacro %}

{# The share of a touch under a milestone model: `weight` on each milestone role the touch holds (roles stack),
   the rest split over the touches holding none; with no such touch, over the distinct milestone touches. A role
   with no touch on the path leaves its weight to the rest. #}
{% macro milestone_share(roles_here, roles_present, milestone_touches, length, weight) -%}
    case
        when {{ roles_here }} > 0 then {{ weight }} * {{ roles_here }}
            + case when {{ milestone_touches }} = {{ length }}
                then (1.0 - {{ weight }} * {{ roles_present }}) / {{ milestone_touches }} else 0.0 end
        else (1.0 - {{ weight }} * {{ roles_present }}) / ({{ length }} - {{ milestone_touches }})
    end
{%- endmacro %}

{# 1 when `position` equals `milestone` (a position that may be null), else 0. #}
{% macro holds(position, milestone) -%}
    case when {{ position }} = {{ milestone }} then 1 else 0 end
{%- endmacro %}

{# Written by the Markov/Shapley step (orchestration/defs/attribution/, between the intermediate models and the
   marts); created empty before every run so the marts compile, unit-test and build on a fresh warehouse. #}
{% macro create_attribution_tables() %}
    create schema if not exists intermediate;
    create table if not exists intermediate.attribution_removal_effects (
        conversion_type {{ dbt.type_string() }},
        period {{ dbt.type_string() }},
        channel {{ dbt.type_string() }},
        removal_effect {{ type_double() }},
        conversion_probability {{ type_double() }},
        conversion_probability_without {{ type_double() }},
        conversions {{ type_double() }},
        paths {{ type_double() }}
    );
    create table if not exists intermediate.attribution_channel_weights (
        conversion_type {{ dbt.type_string() }},
        model {{ dbt.type_string() }},
        channel_set {{ dbt.type_string() }},
        channel {{ dbt.type_string() }},
        weight {{ type_double() }}
    );
{% endmacro %}

{# Post-hook of the incremental attribution models: delete+insert only replaces the conversions a run rebuilds, so
   the rows of a conversion that no longer exists (its lead quarantined, merged or erased) would stay and count in
   the Markov/Shapley paths; a rebuild never has them. `not exists`, not `not in`: PostgreSQL runs `not in` as a
   scan of the subquery per row once its keys outgrow work_mem (minutes at 100 k leads); conversion_id is never null. #}
{% macro delete_vanished_conversions() -%}
    {%- if target.type == 'spark' %}select 1{% else -%}
    delete from {{ this }} as kept
    where not exists (
        select 1 from {{ ref('int_conversions') }} as conversions where conversions.conversion_id = kept.conversion_id
    )
    {%- endif %}
{%- endmacro %}
