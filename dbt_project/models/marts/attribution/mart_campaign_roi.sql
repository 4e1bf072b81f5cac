-- One row per month × channel × campaign (utm_source, utm_medium, utm_campaign) × model: as mart_channel_roi.
{{ roi_by(['channel', 'utm_source', 'utm_medium', 'utm_campaign']) }}
