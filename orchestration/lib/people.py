"""Identity resolution as a pipeline step (docs/identity.md): the identity graph's edges in, the people out.

Reads `intermediate.int_identity__edges` (a dbt view over staging that leaves out what the quality gate
quarantined) and the blocklist seed, resolves people as connected components (`identity.resolve_people`), and
writes, in one transaction on the dbt target's warehouse (`warehouse.py`):
- `intermediate.identity_people` (identifier, person_id), one row per non-blocklisted identifier;
- `intermediate.identity_hashes` (person_id, email_hash, phone_hash), keyed hashes (HMAC-SHA256) of each
  person's primary email and phone: the alphabetically first of those on a CRM lead, else of all the person's;
- one row of `quality.results`: the duplicate-contact rate, (leads − people with leads) ÷ leads, a warning.
Everything is column-wise; the only per-value Python is one HMAC per distinct primary email or phone.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from orchestration.lib.identity import arrow_strings, resolve_people
from orchestration.lib.privacy import keyed_hash

EDGES = "intermediate.int_identity__edges"
BLOCKLIST = "seeds.identity_blocklist"
PEOPLE_TABLE = "intermediate.identity_people"
HASHES_TABLE = "intermediate.identity_hashes"
RESULTS_TABLE = "quality.results"
RULE = "duplicate_contact_rate"
SAMPLE_SIZE = 5


@dataclass(frozen=True)
class DuplicateContacts:
    leads: int
    people_with_leads: int
    sample_lead_ids: list[str] = field(default_factory=list)  # leads that share their person with another lead

    @property
    def merged_leads(self) -> int:
        return self.leads - self.people_with_leads

    @property
    def rate(self) -> float | None:
        return self.merged_leads / self.leads if self.leads else None


@dataclass(frozen=True)
class IdentityOutcome:
    people: int
    identifiers: int
    anonymous_people: int
    hashed_people: int
    duplicates: DuplicateContacts
    max_duplicate_contact_rate: float
    seconds: float

    @property
    def passed(self) -> bool:
        """Within the threshold; with no leads at all the check evaluated nothing, and that is a failure."""
        rate = self.duplicates.rate
        return rate is not None and rate <= self.max_duplicate_contact_rate

    def describe(self) -> str:
        rate = self.duplicates.rate
        shown = "n/a (no leads)" if rate is None else f"{rate:.2%}"
        return (
            f"{self.people:,} people from {self.identifiers:,} identifiers; {self.duplicates.merged_leads:,} of"
            f" {self.duplicates.leads:,} leads merged as duplicates: duplicate-contact rate {shown}"
            f" (warning above {self.max_duplicate_contact_rate:.2%})"
        )


def resolve_identity(
    warehouse, key: bytes, run_id: str, max_duplicate_contact_rate: float, now: datetime | None = None
) -> IdentityOutcome:
    """Reads the edges and the blocklist from `warehouse` (see `warehouse.open_warehouse`), writes the people, their
    hashes and the duplicate-contact result; returns the figures."""
    started = time.perf_counter()
    edges = edges_frame(warehouse.read_text(f"select left_identifier, right_identifier from {EDGES}"))
    blocklist = warehouse.read_text(f"select pattern from {BLOCKLIST}").column("pattern").to_pylist()
    people = people_from_edges(edges, blocklist)
    hashes = primary_hashes(people, edges, key)
    duplicates = duplicate_contacts(people)
    checked_at = (now or datetime.now(UTC)).replace(tzinfo=None)
    warehouse.write(
        replace={
            PEOPLE_TABLE: pa.Table.from_pandas(people, preserve_index=False).cast(
                pa.schema([("identifier", pa.string()), ("person_id", pa.string())])
            ),
            HASHES_TABLE: pa.Table.from_pandas(hashes, preserve_index=False).cast(
                pa.schema([("person_id", pa.string()), ("email_hash", pa.string()), ("phone_hash", pa.string())])
            ),
        },
        append={RESULTS_TABLE: result_row(run_id, duplicates, max_duplicate_contact_rate, checked_at)},
    )
    only_cookies = people["identifier"].str.startswith("anon:").groupby(people["person_id"], sort=False).all()
    return IdentityOutcome(
        people=len(only_cookies),
        identifiers=len(people),
        anonymous_people=int(only_cookies.sum()),
        hashed_people=len(hashes),
        duplicates=duplicates,
        max_duplicate_contact_rate=max_duplicate_contact_rate,
        seconds=time.perf_counter() - started,
    )


def edges_frame(edges: pa.Table) -> pd.DataFrame:
    """The edges (left_identifier, right_identifier) as Arrow-backed string columns. A null left identifier is a
    broken edge view: checked here, on the rows read anyway, not by a dbt test that would compute the view again."""
    missing = edges.column("left_identifier").null_count
    if missing:
        raise ValueError(f"{EDGES}: {missing} edge(s) without a left_identifier")
    return edges.to_pandas(types_mapper={pa.string(): pd.StringDtype("pyarrow")}.get)


def people_from_edges(edges: pd.DataFrame, blocked_emails: list[str]) -> pd.DataFrame:
    """`edges` has left_identifier and right_identifier (null: seen alone); returns identifier, person_id."""
    alone = edges["right_identifier"].isna()
    pairs = edges.loc[~alone].rename(columns={"left_identifier": "left", "right_identifier": "right"})
    return resolve_people(pairs, edges.loc[alone, "left_identifier"], blocked_emails)


def primary_hashes(people: pd.DataFrame, edges: pd.DataFrame, key: bytes) -> pd.DataFrame:
    """One row per person with an email or phone: the keyed hash of the primary one of each (the alphabetically
    first among those seen on a lead, else among all), hashed in its canonical form (no `email:` prefix)."""
    left, right = arrow_strings(edges["left_identifier"]), arrow_strings(edges["right_identifier"])
    on_lead = pa.concat_arrays(
        [
            right.filter(pc.starts_with(left, "lead:")),
            left.filter(pc.fill_null(pc.starts_with(right, "lead:"), False)),
        ]
    ).drop_null()
    table = pa.table(
        {"identifier": arrow_strings(people["identifier"]), "person_id": arrow_strings(people["person_id"])}
    )
    hashed = None
    for kind in ("email", "phone"):
        prefix = f"{kind}:"
        of_kind = table.filter(pc.starts_with(table["identifier"], prefix))
        of_kind = of_kind.append_column("off_lead", pc.invert(pc.is_in(of_kind["identifier"], value_set=on_lead)))
        ordered = of_kind.sort_by([("person_id", "ascending"), ("off_lead", "ascending"), ("identifier", "ascending")])
        person = ordered["person_id"].combine_chunks()
        first_of_person = np.ones(len(person), dtype=bool)  # rows sorted by person: the first row of each
        if len(person) > 1:
            first_of_person[1:] = pc.not_equal(person.slice(1), person.slice(0, len(person) - 1)).to_numpy(False)
        primary = ordered.filter(pa.array(first_of_person))
        # primaries are distinct (one value belongs to one person): one HMAC each
        values = pc.utf8_slice_codeunits(primary["identifier"], len(prefix)).to_pylist()
        column = pa.table(
            {
                "person_id": primary["person_id"],
                f"{kind}_hash": pa.array([keyed_hash(value, key) for value in values], pa.string()),
            }
        )
        hashed = column if hashed is None else hashed.join(column, "person_id", join_type="full outer")
    hashed = hashed.sort_by("person_id").select(["person_id", "email_hash", "phone_hash"])
    return hashed.to_pandas(types_mapper={pa.string(): pd.StringDtype("pyarrow")}.get)


def duplicate_contacts(people: pd.DataFrame) -> DuplicateContacts:
    """Leads (their `lead:` identifiers) and the people they belong to; every lead beyond a person's first is a
    merged duplicate."""
    leads = people[people["identifier"].str.startswith("lead:")]
    shared = leads[leads["person_id"].duplicated(keep=False)]["identifier"].str.removeprefix("lead:")
    return DuplicateContacts(
        leads=len(leads),
        people_with_leads=int(leads["person_id"].nunique()),
        sample_lead_ids=shared.sort_values().head(SAMPLE_SIZE).tolist(),
    )


def result_row(run_id: str, duplicates: DuplicateContacts, max_rate: float, checked_at: datetime) -> pa.Table:
    """The duplicate-contact rate as a row of quality.results (severity warning: reported, nothing blocked)."""
    rate = duplicates.rate
    return pa.table(
        {
            "run_id": pa.array([run_id], pa.string()),
            "dataset": pa.array(["leads"], pa.string()),
            "rule": pa.array([RULE], pa.string()),
            "expectation": pa.array([f"(leads - people with leads) / leads <= {max_rate:g}"], pa.string()),
            "severity": pa.array(["warning"], pa.string()),
            "passed": pa.array([rate is not None and rate <= max_rate], pa.bool_()),
            "rows_checked": pa.array([duplicates.leads], pa.int64()),
            "failing_rows": pa.array([duplicates.merged_leads], pa.int64()),
            "failing_rate": pa.array([rate], pa.float64()),
            "sample_keys": pa.array([", ".join(duplicates.sample_lead_ids)], pa.string()),
            "checked_at": pa.array([checked_at], pa.timestamp("us")),
        }
    )
