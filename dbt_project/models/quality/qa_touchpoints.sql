-- The touchpoints the gate checks tonight: those loaded since the last run that passed the gate (earlier ones
-- were checked then and int_touchpoints_classified never reads them again). One row per touchpoint id (its newest
-- delivery), with the values and flags the rules of orchestration/lib/quality/rules.py read.
with

last_passed as (

    select max(checked_through) as checked_through
    from {{ source('quality', 'runs') }}
    where status = 'passed'

),

new_rows as (

    select touchpoints.*
    from {{ ref('stg_web__touchpoints') }} as touchpoints
    where touchpoints._loaded_at > coalesce((select checked_through from last_passed), {{ dbt.cast("'1900-01-01'", api.Column.translate_type('timestamp')) }})

),

newest as (

    {{ latest_version('new_rows', 'touchpoint_id', '_loaded_at desc, _source_file desc, _row_number desc') }}

),

-- an id delivered again with other content, in this delivery or an earlier one
conflicting as (

    {{ conflicting_versions(source('web', 'touchpoints'), 'touchpoint_id', scope='select touchpoint_id from new_rows') }}

),

final as (

    select
        {{ record_key('newest.touchpoint_id', 'newest') }} as record_key,
        newest.touchpoint_id,
        newest.occurred_at,
        newest.touchpoint_type,
        (newest.anonymous_id is null and newest.email is null and newest.phone is null) as lacks_identifier,
        newest.has_invalid_email,
        newest.has_invalid_phone,
        (conflicting.record_key is not null) as is_conflicting_duplicate,
        newest._loaded_at
    from newest
    left join conflicting on conflicting.record_key = newest.touchpoint_id

)

select * from final
