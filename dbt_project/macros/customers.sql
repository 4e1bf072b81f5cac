{# The per-customer CLV table is written by the customers asset (orchestration/defs/customers/, a Python step
   between the intermediate models and the marts: BG/NBD + Gamma-Gamma, orchestration/lib/clv.py). dbt creates it
   empty before every run, like the identity tables, so mart_customer_ltv builds on a fresh warehouse. #}
{% macro create_customer_clv_table() %}
    create schema if not exists intermediate;
    create table if not exists intermediate.customer_clv (
        person_id varchar,
        expected_purchases double precision,
        probability_alive double precision,
        expected_order_value double precision,
        clv double precision,
        horizon_months bigint,
        model_status varchar
    );
{% endmacro %}

{# A float rounded to `digits` decimals the same way on every engine (Postgres rounds only numerics). #}
{% macro round_float(expr, digits=2) -%}
    cast(round(cast({{ expr }} as numeric(38, 10)), {{ digits }}) as float8)
{%- endmacro %}
