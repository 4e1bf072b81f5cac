-- One row per month × channel × model: spend, attributed conversions and value, CPL, CAC, ROAS, ROI (README *Attribution* and *Marts*).
{{ roi_by(['channel']) }}
