-- One row per month × channel × model: spend, attributed conversions and value, CPL, CAC, ROAS, ROI (SPEC §6, §9).
{{ roi_by(['channel']) }}
