"""The landing-zone contract (docs/landing-zone.md): which columns each source has and which are required.

Raw tables keep every contract column as text, exactly as delivered; staging casts. Extra columns a source
delivers are kept in `_extra` (JSON) and ignored downstream.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SourceContract:
    name: str
    key: tuple[str, ...]
    columns: tuple[str, ...]
    required: tuple[str, ...]
    # at least one of these must be present as a column (touchpoints: an identifier)
    one_of: tuple[str, ...] = ()


def _source(name: str, key: tuple[str, ...], spec: str, one_of: tuple[str, ...] = ()) -> SourceContract:
    """`spec` lists the columns in order; a trailing `*` marks a required column."""
    names = [c.strip() for c in spec.split(",") if c.strip()]
    columns = tuple(c.rstrip("*") for c in names)
    required = tuple(c.rstrip("*") for c in names if c.endswith("*"))
    return SourceContract(name, key, columns, required, one_of)


CONTRACTS: dict[str, SourceContract] = {
    c.name: c
    for c in (
        _source(
            "touchpoints",
            ("touchpoint_id",),
            "touchpoint_id*, occurred_at*, anonymous_id, email, phone, touchpoint_type*, page_url, referrer_url,"
            " utm_source, utm_medium, utm_campaign, utm_content, utm_term, content_id",
            one_of=("anonymous_id", "email", "phone"),
        ),
        _source(
            "leads",
            ("lead_id",),
            "lead_id*, created_at*, updated_at, email, phone, first_name, last_name, company, source_channel*,"
            " source_campaign*, source_detail*, first_contact_at*, product_interest*, segment*, region*, owner*,"
            " lifecycle_stage*, declared_need, consent_marketing, consent_at",
            one_of=("email", "phone"),
        ),
        _source(
            "deals",
            ("deal_id",),
            "deal_id*, lead_id*, created_at*, updated_at, stage*, amount*, currency*, closed_at, outcome*,"
            " loss_reason, product, owner*",
        ),
        _source("deal_stage_history", ("deal_id", "stage"), "deal_id*, stage*, entered_at*"),
        _source(
            "activities",
            ("activity_id",),
            "activity_id*, lead_id*, occurred_at*, activity_type*, outcome, owner*",
        ),
        _source(
            "ad_spend",
            ("spend_date", "utm_source", "utm_medium", "utm_campaign"),
            "spend_date*, utm_source*, utm_medium*, utm_campaign*, spend*, currency*, impressions, clicks",
        ),
        _source(
            "orders",
            ("order_id",),
            "order_id*, ordered_at*, email, phone, lead_id, amount*, currency*, gross_margin",
        ),
        _source("fx_rates", ("rate_date", "currency"), "rate_date*, currency*, rate_to_base*"),
        _source("erasure_requests", ("requested_at", "email", "phone"), "requested_at*, email, phone"),
    )
}

TOUCHPOINT_TYPES = (
    "page_view",
    "pricing_page_view",
    "ad_click",
    "email_open",
    "email_click",
    "content_download",
    "webinar_registration",
    "webinar_attended",
    "form_submit",
    "demo_request",
    "contact_request",
    "chat",
    "event_visit",
    "social_engagement",
)
LIFECYCLE_STAGES = ("new", "working", "nurture", "mql", "sql", "opportunity", "customer", "disqualified", "recycled")
DEAL_STAGES = ("qualification", "presentation", "proposal", "negotiation", "closed_won", "closed_lost")
DEAL_OUTCOMES = ("open", "won", "lost")
LOSS_REASONS = (
    "price",
    "priority",
    "no_response",
    "technical_requirements",
    "competitor",
    "no_urgency",
    "no_budget",
    "other",
)
ACTIVITY_TYPES = ("call", "email", "meeting", "message")
ACTIVITY_OUTCOMES = ("connected", "no_answer", "left_message", "replied", "scheduled")
