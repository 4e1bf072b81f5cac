"""The quality rules of the gate (docs/quality-gate.md), as data: one list per dataset, read by the Great Expectations
suites (`suites.py`) and by the quarantine (`gate.py`), so both judge a row by the same rule.

Each dataset is a dbt table `quality.qa_<dataset>` built from the staged data just before the gate, with a
`record_key` and the flag columns the rules read (dbt_project/models/quality/). Severities:
- `error`: a row rule; failing rows are quarantined and left out of the marts;
- `warning`: reported, nothing quarantined;
- `structural`: the dataset as a whole is unusable; the run is blocked.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from orchestration.lib.contract import (
    ACTIVITY_OUTCOMES,
    ACTIVITY_TYPES,
    DEAL_OUTCOMES,
    DEAL_STAGES,
    LIFECYCLE_STAGES,
    LOSS_REASONS,
    TOUCHPOINT_TYPES,
)
from orchestration.lib.sql import sql_literal

ERROR, WARNING, STRUCTURAL = "error", "warning", "structural"


@dataclass(frozen=True)
class Rule:
    name: str
    check: str  # not_null | in_set | at_least | between | flag_false | has_rows
    column: str | None = None
    values: tuple = ()
    minimum: float | None = None
    maximum: float | None = None
    strict: bool = False  # minimum excluded
    severity: str = ERROR

    def violation_sql(self) -> str:
        """The SQL condition true for a row that breaks the rule (the same rows GX counts as unexpected)."""
        column = self.column
        if self.check == "not_null":
            return f"{column} is null"
        if self.check == "in_set":
            listed = ", ".join(sql_literal(v) if isinstance(v, str) else str(v) for v in self.values)
            return f"{column} is not null and {column} not in ({listed})"
        if self.check in ("at_least", "between"):
            low = f"{column} {'<=' if self.strict else '<'} {self.minimum}"
            high = f" or {column} > {self.maximum}" if self.maximum is not None else ""
            return f"{column} is not null and ({low}{high})"
        if self.check == "flag_false":
            return f"{column} = true"
        raise ValueError(f"rule {self.name} has no row condition")


@dataclass(frozen=True)
class Dataset:
    name: str  # the landing source; quarantine and not_quarantined() use this name
    key: str
    rules: tuple[Rule, ...] = field(default_factory=tuple)

    @property
    def view(self) -> str:
        return f"quality.qa_{self.name}"


def _required(*columns: str) -> tuple[Rule, ...]:
    return tuple(Rule(f"{column}_required", "not_null", column) for column in columns)


def _one_of(column: str, values: tuple[str, ...]) -> Rule:
    return Rule(f"{column}_accepted_values", "in_set", column, values=values)


def _flag(name: str, column: str, severity: str = ERROR) -> Rule:
    return Rule(name, "flag_false", column, severity=severity)


def _non_negative(column: str) -> Rule:
    return Rule(f"{column}_not_negative", "at_least", column, minimum=0)


HAS_ROWS = Rule("has_rows", "has_rows", severity=STRUCTURAL)
# an address or number that does not parse is dropped (null), not the row: reported, not quarantined
FORMATS = (
    _flag("email_format", "has_invalid_email", severity=WARNING),
    _flag("phone_format", "has_invalid_phone", severity=WARNING),
)

DATASETS: tuple[Dataset, ...] = (
    Dataset(
        "touchpoints",
        "touchpoint_id",
        (
            *_required("touchpoint_id", "occurred_at", "touchpoint_type"),
            _one_of("touchpoint_type", TOUCHPOINT_TYPES),
            _flag("identifier_required", "lacks_identifier"),
            *FORMATS,
            _flag("conflicting_duplicate", "is_conflicting_duplicate"),
        ),
    ),
    Dataset(
        "leads",
        "lead_id",
        (
            HAS_ROWS,
            *_required(
                "lead_id",
                "created_at",
                "source_channel",
                "source_campaign",
                "source_detail",
                "first_contact_at",
                "product_interest",
                "segment",
                "region",
                "owner",
                "lifecycle_stage",
            ),
            _one_of("lifecycle_stage", LIFECYCLE_STAGES),
            _flag("email_or_phone_required", "lacks_contact"),
            *FORMATS,
            _flag("first_contact_not_after_creation", "is_first_contact_after_creation"),
            _flag("conflicting_duplicate", "is_conflicting_duplicate"),
        ),
    ),
    Dataset(
        "deals",
        "deal_id",
        (
            HAS_ROWS,
            *_required("deal_id", "lead_id", "created_at", "stage", "amount", "currency", "outcome", "owner"),
            _one_of("stage", DEAL_STAGES),
            _one_of("outcome", DEAL_OUTCOMES),
            _one_of("loss_reason", LOSS_REASONS),
            _non_negative("amount"),
            _flag("closed_at_matches_outcome", "is_closed_date_inconsistent"),
            _flag("loss_reason_required_when_lost", "lacks_loss_reason"),
            _flag("closed_not_before_creation", "is_closed_before_creation"),
            _flag("lead_exists", "has_unknown_lead"),
            _flag("known_currency", "lacks_fx_rate"),
            _flag("conflicting_duplicate", "is_conflicting_duplicate"),
        ),
    ),
    Dataset(
        "activities",
        "activity_id",
        (
            *_required("activity_id", "lead_id", "occurred_at", "activity_type", "owner"),
            _one_of("activity_type", ACTIVITY_TYPES),
            _one_of("outcome", ACTIVITY_OUTCOMES),
            _flag("lead_exists", "has_unknown_lead"),
            _flag("conflicting_duplicate", "is_conflicting_duplicate"),
        ),
    ),
    Dataset(
        "deal_stage_history",
        "record_key",
        (
            *_required("deal_id", "stage", "entered_at"),
            _one_of("stage", DEAL_STAGES),
            _flag("deal_exists", "has_unknown_deal"),
        ),
    ),
    Dataset(
        "ad_spend",
        "record_key",
        (
            *_required("spend_date", "utm_source", "utm_medium", "utm_campaign", "spend", "currency"),
            _non_negative("spend"),
            _flag("known_currency", "lacks_fx_rate"),
        ),
    ),
    Dataset(
        "orders",
        "order_id",
        (
            *_required("order_id", "ordered_at", "amount", "currency"),
            _non_negative("amount"),
            Rule("gross_margin_is_a_fraction", "between", "gross_margin", minimum=0, maximum=1),
            _flag("customer_identifier_required", "lacks_customer"),
            *FORMATS,
            _flag("lead_exists", "has_unknown_lead"),
            _flag("known_currency", "lacks_fx_rate"),
            _flag("conflicting_duplicate", "is_conflicting_duplicate"),
        ),
    ),
    Dataset(
        "fx_rates",
        "record_key",
        (
            *_required("rate_date", "currency", "rate_to_base"),
            Rule("rate_is_positive", "at_least", "rate_to_base", minimum=0, strict=True),
        ),
    ),
)
