{# URL pieces in SQL, identical on every engine. Values are lowercased; '+' in query values reads as a space. #}
{% macro url_param(url, name) -%}
    replace(lower({{ regex_extract(url, "'[?&]" ~ name ~ "=([^&#]*)'") }}), '+', ' ')
{%- endmacro %}

{% macro url_host(url) -%}
    {{ regex_extract('lower(' ~ url ~ ')', "'^[a-z][a-z0-9+.-]*://(?:www[.])?([^/?#:]+)'") }}
{%- endmacro %}

{% macro url_path(url) -%}
    coalesce({{ regex_extract(url, "'^[A-Za-z][A-Za-z0-9+.-]*://[^/?#]+(/[^?#]*)'") }}, '/')
{%- endmacro %}
