{#- Channel grouping (docs/marts.md *Channels*) over *distinct* keys, never row by row: a batch of touchpoints or ad spend is
    reduced to its distinct (source, medium, has_utm, referrer class, touchpoint type) keys, those are matched
    against the channel_rules seed, and the result is joined back. -#}

{# Adds `referrer_class` (none, search, social, external) to a relation with referrer_host and page_host. #}
{% macro referrer_classes(hosts_relation) -%}
    {%- set internal_hosts = var('closedloop__internal_hosts', []) -%}
    select
        hosts.referrer_host,
        hosts.page_host,
        case
            when hosts.referrer_host is null then 'none'
            when hosts.referrer_host = hosts.page_host then 'none'
            {% if internal_hosts %}
            when hosts.referrer_host in ({% for h in internal_hosts %}'{{ h }}'{% if not loop.last %}, {% endif %}{% endfor %}) then 'none'
            {% endif %}
            else coalesce(min(sources.source_class), 'external')
        end as referrer_class
    from {{ hosts_relation }} as hosts
    left join {{ ref('traffic_sources') }} as sources
        on {{ regex_match('hosts.referrer_host', 'sources.host_pattern') }}
    group by hosts.referrer_host, hosts.page_host
{%- endmacro %}

{# From a relation of distinct keys (source_key, medium_key, has_utm, referrer_class, type_key; keys are ''
   rather than null so joins back are plain equality) to the same keys plus `channel`. #}
{% macro channel_rules_matched(keys_relation) -%}
    select source_key, medium_key, has_utm, referrer_class, type_key, channel
    from (
        select
            keys.source_key,
            keys.medium_key,
            keys.has_utm,
            keys.referrer_class,
            keys.type_key,
            rules.channel,
            row_number() over (
                partition by keys.source_key, keys.medium_key, keys.has_utm, keys.referrer_class, keys.type_key
                order by rules.rule_order
            ) as rule_rank
        from (
            select
                keys.*,
                (
                    select min(sources.source_class)
                    from {{ ref('traffic_sources') }} as sources
                    where {{ regex_match('keys.source_key', 'sources.utm_source_pattern') }}
                ) as source_class
            from {{ keys_relation }} as keys
        ) as keys
        inner join {{ ref('channel_rules') }} as rules
            on (rules.medium_pattern is null or {{ regex_match('keys.medium_key', 'rules.medium_pattern') }})
            and (rules.source_class is null or rules.source_class = keys.source_class)
            and (rules.referrer_class is null or rules.referrer_class = keys.referrer_class)
            and (not rules.requires_no_utm or not keys.has_utm)
            and (rules.touchpoint_type_pattern is null or {{ regex_match('keys.type_key', 'rules.touchpoint_type_pattern') }})
    ) as ranked
    where rule_rank = 1
{%- endmacro %}
