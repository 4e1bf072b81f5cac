{# docs/identity.md: trim, lowercase; gmail/googlemail drop dots and a +tag in the local part; invalid syntax => null.
   Same rule as orchestration/lib/normalise.py:normalise_email. `expr` should already be trimmed and lowercased. #}
{% macro normalise_email(expr) -%}
    case
        when not {{ regex_match(expr, email_pattern()) }} then null
        when {{ dbt.split_part(expr, "'@'", 2) }} in ('gmail.com', 'googlemail.com')
            then {{ dbt.concat(["nullif(replace(" ~ dbt.split_part(dbt.split_part(expr, "'@'", 1), "'+'", 1) ~ ", '.', ''), '')", "'@gmail.com'"]) }}
        else {{ expr }}
    end
{%- endmacro %}

{# The syntax an email must have, as a SQL string literal. The apostrophe in the local part is written '' in
   standard SQL and \' in Spark SQL. #}
{% macro email_pattern() -%}
    {{ return(adapter.dispatch('email_pattern', 'closedloop')()) }}
{%- endmacro %}
{% macro default__email_pattern() -%}
    '^[a-z0-9._%+''-]+@[a-z0-9-]+([.][a-z0-9-]+)*[.][a-z]{2,}$'
{%- endmacro %}
{% macro spark__email_pattern() -%}
    '^[a-z0-9._%+\'-]+@[a-z0-9-]+([.][a-z0-9-]+)*[.][a-z]{2,}$'
{%- endmacro %}
