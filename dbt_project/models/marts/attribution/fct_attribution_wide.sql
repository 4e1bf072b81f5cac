{{ config(materialized='view' if target.type == 'duckdb' else 'table', contract={'enforced': false}) }}
-- One row per conversion × path touch with every model's share as a column (docs/attribution.md): fct_attribution
-- is this table unpivoted by model, and the serving file stores only this one, with fct_attribution as a view over
-- it (a tenth of the rows to write each night). Its columns follow closedloop__attribution_models, so it has no
-- enforced contract. A view on DuckDB, like fct_attribution: publishing writes its rows once, to the serving file.
with

touches as (

    select * from {{ ref('int_attribution_touches') }}

),

final as (

    select
        {% for column in attribution_touch_columns() %}
            {{ column }},
        {% endfor %}
        {% for model in attribution_models() %}
            share_{{ model }},
        {% endfor %}
        value
    from touches

)

select * from final
