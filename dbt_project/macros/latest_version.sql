{# Keeps the newest version of each key: the row with the latest `order_by` (e.g. updated_at, then load time).
   CRM exports re-deliver changed records every night; staging shows their current state. #}
{% macro latest_version(relation, key, order_by) -%}
    select * from (
        select
            *,
            row_number() over (partition by {{ key }} order by {{ order_by }}) as version_rank
        from {{ relation }}
    ) as versions
    where version_rank = 1
{%- endmacro %}
