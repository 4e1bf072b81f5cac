{# True on an incremental run whose existing table has `column`: a table built before the model became
   incremental (or before the column existed) is rebuilt whole, like a first run. #}
{% macro is_incremental_with(column) -%}
    {%- if not is_incremental() -%}{{ return(false) }}{%- endif -%}
    {%- set names = adapter.get_columns_in_relation(this) | map(attribute='name') | map('lower') | list -%}
    {{ return(column in names) }}
{%- endmacro %}
