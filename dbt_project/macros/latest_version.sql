{# Keeps the newest version of each key: the row first in `order_by` (e.g. updated_at desc, then load time).
   CRM exports re-deliver changed records every night; staging shows their current state.
   Repeats are rare, so only keys that occur more than once go through the window (which must sort whole rows);
   the rest pass straight through. That is several times faster on tens of millions of touchpoints. The repeated
   keys are counted once, in a nested CTE both halves read. Rows with a null key are kept as they are (the quality
   gate reports them). #}
{% macro latest_version(relation, key, order_by) -%}
    with repeated as ({{ _repeated_keys(relation, key) }})
    select singles.*, 1 as version_rank
    from {{ relation }} as singles
    where not exists (select 1 from repeated where {{ _same_key('repeated', 'singles', key) }})
    union all
    select * from ({{ _ranked_repeats(relation, key, order_by, 'repeated') }}) as ranked
    where version_rank = 1
{%- endmacro %}

{# The other side: the rows of `relation` that a newer version of their key replaces. Given only the key and the
   ordering columns, it lets a model decide on narrow rows and read its wide rows once, leaving these out. #}
{% macro superseded_versions(relation, key, order_by) -%}
    select * from ({{ _ranked_repeats(relation, key, order_by, '(' ~ _repeated_keys(relation, key) ~ ')') }}) as ranked
    where version_rank > 1
{%- endmacro %}

{# True for a row of `row_alias` that is not among `superseded` (superseded_versions' rows), matched on `columns`:
   the key and the ordering columns, which together name one delivered row. #}
{% macro not_superseded(superseded, row_alias, columns) -%}
    not exists (select 1 from {{ superseded }} as superseded where {{ _same_key('superseded', row_alias, columns) }})
{%- endmacro %}

{% macro _repeated_keys(relation, key) -%}
    select {{ key }} from {{ relation }} group by {{ key }} having count(*) > 1
{%- endmacro %}

{% macro _ranked_repeats(relation, key, order_by, repeated) -%}
    select
        versions.*,
        row_number() over (partition by {{ key }} order by {{ order_by }}) as version_rank
    from {{ relation }} as versions
    where exists (select 1 from {{ repeated }} as repeated where {{ _same_key('repeated', 'versions', key) }})
{%- endmacro %}

{% macro _same_key(left, right, key) -%}
    {%- for c in key.split(',') | map('trim') -%}
        {{ left }}.{{ c }} = {{ right }}.{{ c }}{% if not loop.last %} and {% endif %}
    {%- endfor -%}
{%- endmacro %}
