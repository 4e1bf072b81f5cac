"""Identity resolution between staging and the marts (docs/identity.md): one asset that writes the people tables the
intermediate models read, with the duplicate-contact rate as a non-blocking warning check."""

import dagster as dg

from orchestration.defs.resources import ClosedloopSettings
from orchestration.lib.people import resolve_identity
from orchestration.lib.privacy import pii_key
from orchestration.lib.progress import progress
from orchestration.lib.warehouse import open_warehouse

PEOPLE_KEY = dg.AssetKey(["intermediate", "identity_people"])
HASHES_KEY = dg.AssetKey(["intermediate", "identity_hashes"])
UPSTREAM = [
    dg.AssetKey(["intermediate", "int_identity__edges"]),
    dg.AssetKey(["intermediate", "int_identity__record_edges"]),
    dg.AssetKey(["intermediate", "int_identity__touchpoint_edges"]),
    dg.AssetKey(["quality", "quarantined_keys"]),  # the gate: quarantined rows link nobody
    dg.AssetKey(["seeds", "identity_blocklist"]),
]
CHECK = "duplicate_contact_rate"


@dg.multi_asset(
    name="identity_people",
    specs=[
        dg.AssetSpec(
            PEOPLE_KEY,
            deps=UPSTREAM,
            group_name="intermediate",
            kinds={"python"},
            description="intermediate.identity_people: one row per non-blocklisted identifier (lead:, email:, "
            "phone:, anon:) with its person_id, the connected components of int_identity__edges.",
        ),
        dg.AssetSpec(
            HASHES_KEY,
            deps=UPSTREAM,
            group_name="intermediate",
            kinds={"python"},
            description="intermediate.identity_hashes: per person, HMAC-SHA256 of the primary email and phone.",
        ),
    ],
    check_specs=[
        dg.AssetCheckSpec(
            CHECK,
            asset=PEOPLE_KEY,
            blocking=False,
            description="(leads − people with leads) ÷ leads at most CLOSEDLOOP_MAX_DUPLICATE_CONTACT_RATE "
            "(default 5 %); a warning, also appended to quality.results.",
        )
    ],
)
def identity_people(context: dg.AssetExecutionContext, settings: ClosedloopSettings):
    cfg = settings.get()
    progress("identity: resolving people")
    with open_warehouse(cfg.dbt_target, cfg.warehouse_path) as warehouse:
        outcome = resolve_identity(warehouse, pii_key(cfg), context.run.run_id, cfg.max_duplicate_contact_rate)
    progress(f"identity: {outcome.describe()}")
    duplicates = outcome.duplicates
    yield dg.MaterializeResult(
        asset_key=PEOPLE_KEY,
        metadata={
            "people": outcome.people,
            "anonymous_people": outcome.anonymous_people,
            "identifiers": outcome.identifiers,
            "label_rounds": outcome.rounds,
            "leads": duplicates.leads,
            "merged_leads": duplicates.merged_leads,
            "seconds": round(outcome.seconds, 2),
        },
    )
    yield dg.MaterializeResult(asset_key=HASHES_KEY, metadata={"people_with_email_or_phone": outcome.hashed_people})
    yield dg.AssetCheckResult(
        asset_key=PEOPLE_KEY,
        check_name=CHECK,
        passed=outcome.passed,
        severity=dg.AssetCheckSeverity.WARN,
        description=outcome.describe(),
        metadata={
            **({"duplicate_contact_rate": duplicates.rate} if duplicates.rate is not None else {}),
            "max_duplicate_contact_rate": outcome.max_duplicate_contact_rate,
            "leads": duplicates.leads,
            "people_with_leads": duplicates.people_with_leads,
            "merged_leads": duplicates.merged_leads,
            "sample_lead_ids": ", ".join(duplicates.sample_lead_ids) or "none",
        },
    )
