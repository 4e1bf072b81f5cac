{# True when `relation` exists and has `column`. #}
{% macro has_column(relation, column) -%}
    {%- if relation is none -%}{{ return(false) }}{%- endif -%}
    {{ return(column in (adapter.get_columns_in_relation(relation) | map(attribute='name') | map('lower') | list)) }}
{%- endmacro %}

{# True on an incremental run whose existing table has `column`: a table built before the model became
   incremental (or before the column existed) is rebuilt whole, like a first run. #}
{% macro is_incremental_with(column) -%}
    {{ return(is_incremental() and has_column(this, column)) }}
{%- endmacro %}
