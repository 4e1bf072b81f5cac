{# The model's key spans several columns: no two rows share all of them (two nulls count as equal, so a null
   campaign is one key value, as BI tools group it). #}
{% test unique_combination(model, columns) %}

select {{ columns | join(', ') }}, count(*) as rows_with_key
from {{ model }}
group by {{ columns | join(', ') }}
having count(*) > 1

{% endtest %}
