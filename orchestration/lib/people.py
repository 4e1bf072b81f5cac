"""Identity resolution as a pipeline step (docs/identity.md): the identity graph's edges in, the people out.

Everything heavy runs inside the warehouse engine (`identity.ComponentsSql`), so the edge list never leaves it:
the edges of `intermediate.int_identity__edges` (a dbt view over staging that leaves out what the quality gate
quarantined) are read once into a scratch table, blocklisted identifiers (the seed `seeds.identity_blocklist`, and
the phone rule) dropped, and the connected components labelled in a few rounds. Then, in one transaction:
- `intermediate.identity_people` (identifier, person_id), one row per non-blocklisted identifier;
- `intermediate.identity_hashes` (person_id, email_hash, phone_hash), keyed hashes (HMAC-SHA256) of each
  person's primary email and phone: the first, by its bytes, of those on a CRM lead, else of all the person's;
- one row of `quality.results`: the duplicate-contact rate, (leads − people with leads) ÷ leads, a warning.
Python reads only the primaries (one row per person with an email or phone: one HMAC each, with the key that must
not reach the engine) and a few figures.

A night whose edges only add to last night's updates last night's people (`identity.py`), in their table where the
engine updates rows (DuckDB, PostgreSQL); it keeps tonight's edges (`intermediate.identity_edges`) and what they
were resolved with (`intermediate.identity_state`: the blocklist and the rules, and how many people rows were
written) for the next. Anything else solves again: an edge gone (a changed or erased record), another blocklist,
people rows that are not the ones written (an erasure), no state at all. When last night's people can be updated,
the edges read are, where possible, only the leads' and orders' and those of the touchpoints loaded since last night
(`new_edges_added`). An update also writes the people it merged into another (`intermediate.identity_moves`), and
the state says which people it updated (`updated_from`), so that int_touchpoint_people can move those people's
touches instead of assigning every touch again.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime

import duckdb
import pyarrow as pa

from orchestration.lib.identity import MAX_ROUNDS, ComponentsSql
from orchestration.lib.privacy import hmac_sha256_sql

EDGES = "intermediate.int_identity__edges"
RECORD_EDGES = "intermediate.int_identity__record_edges"  # the leads' and orders' part of EDGES
TOUCHPOINT_EDGES = "intermediate.int_identity__touchpoint_edges"  # every touchpoint delivery's edges
TOUCHPOINTS = "staging.stg_web__touchpoints"
BLOCKLIST = "seeds.identity_blocklist"
PEOPLE_TABLE = "intermediate.identity_people"
HASHES_TABLE = "intermediate.identity_hashes"
RESULTS_TABLE = "quality.results"
EDGES_STATE = "intermediate.identity_edges"  # last night's edges, compared with tonight's
STATE_TABLE = "intermediate.identity_state"  # one row: what last night's people were resolved with, and when
MOVES_TABLE = "intermediate.identity_moves"  # last night's people that tonight's update merged into another
RECORD_EDGES_STATE = "intermediate.identity_record_edges"  # last night's RECORD_EDGES
TOUCHPOINTS_READ = "intermediate.identity_touchpoints_read"  # one row: up to which load last night read touchpoints
RULES_VERSION = "1"  # raised when the resolution's rules change, so that a new release solves again
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
    rounds: int  # of label propagation, the last of which changed nothing
    duplicates: DuplicateContacts
    max_duplicate_contact_rate: float
    seconds: float
    added_edges: int | None = None  # the edges new since last night when people were updated, None: solved whole
    read_all_edges: bool = True  # False: only the touchpoints loaded since last night were read

    @property
    def passed(self) -> bool:
        """Within the threshold; with no leads at all the check evaluated nothing, and that is a failure."""
        rate = self.duplicates.rate
        return rate is not None and rate <= self.max_duplicate_contact_rate

    def how(self) -> str:
        if self.added_edges is None:
            return "solved whole"
        read = "" if self.read_all_edges else " from the touchpoints loaded since"
        return f"last night's updated with {self.added_edges:,} new edges{read}"

    def describe(self) -> str:
        rate = self.duplicates.rate
        shown = "n/a (no leads)" if rate is None else f"{rate:.2%}"
        return (
            f"{self.people:,} people from {self.identifiers:,} identifiers ({self.how()}, {self.rounds} rounds);"
            f" {self.duplicates.merged_leads:,} of"
            f" {self.duplicates.leads:,} leads merged as duplicates: duplicate-contact rate {shown}"
            f" (warning above {self.max_duplicate_contact_rate:.2%})"
        )


def resolve_identity(
    warehouse, key: bytes, run_id: str, max_duplicate_contact_rate: float, now: datetime | None = None
) -> IdentityOutcome:
    """Resolves people on `warehouse` (see `warehouse.open_warehouse`): writes the people, their hashes and the
    duplicate-contact result; returns the figures."""
    started = time.perf_counter()
    sql = ComponentsSql(warehouse.engine)
    with warehouse.hold(), scratch_tables(warehouse, sql):
        basis = resolution_basis(warehouse)
        state = last_state(warehouse)
        updatable = state_holds(warehouse, basis, state)
        split = has_split_views(warehouse)
        if split:
            warehouse.create_table_as(sql.record_edges, sql.read_edges(RECORD_EDGES))
        added = new_edges_added(warehouse, sql) if updatable and split else None
        read_all = added is None
        if read_all:
            warehouse.create_table_as(sql.edges, sql.read_edges(EDGES))
            check_edges(warehouse, sql, EDGES)
            added = edges_added(warehouse, sql) if updatable else None
        updated_from = resolved_at(state) if added is not None else None
        warehouse.drop_table(STATE_TABLE)  # no update from these people until tonight's are written
        rounds, people = solve_whole(warehouse, sql) if added is None else update_people(warehouse, sql)
        hashes = primary_hashes(warehouse.read_text(sql.primaries(people)), key)
        figures = warehouse.read_text(sql.figures(people)).to_pylist()[0]
        duplicates = DuplicateContacts(
            leads=int(figures["leads"] or 0),
            people_with_leads=int(figures["people_with_leads"] or 0),
            sample_lead_ids=warehouse.read_text(sql.shared_leads(SAMPLE_SIZE, people)).column("lead_id").to_pylist(),
        )
        checked_at = (now or datetime.now(UTC)).replace(tzinfo=None)
        whole = added is None
        # the people are in their table already when it was updated where it is
        people_written = {} if people != sql.people else {PEOPLE_TABLE: sql.published_people()}
        # the kept edges: tonight's after a whole solve, last night's plus the new ones after an update (none was
        # gone); the state last: a run that stops before it leaves none, and the next night solves whole
        warehouse.write(
            replace={
                HASHES_TABLE: hashes,
                STATE_TABLE: state_row(basis, int(figures["identifiers"] or 0), updated_from),
            },
            append={RESULTS_TABLE: result_row(run_id, duplicates, max_duplicate_contact_rate, checked_at)},
            replace_with={
                **people_written,
                MOVES_TABLE: sql.published_moves(),
                **({EDGES_STATE: sql.kept_edges(sql.edges)} if whole else {}),
                # what the next night needs to read only the touchpoints loaded after tonight's
                **(split_state(sql) if split else {}),
            },
            append_with={} if whole else {EDGES_STATE: sql.kept_edges(sql.added)},
        )
    return IdentityOutcome(
        people=int(figures["people"] or 0),
        identifiers=int(figures["identifiers"] or 0),
        anonymous_people=int(figures["anonymous_people"] or 0),
        hashed_people=hashes.num_rows,
        rounds=rounds,
        duplicates=duplicates,
        max_duplicate_contact_rate=max_duplicate_contact_rate,
        seconds=time.perf_counter() - started,
        added_edges=added,
        read_all_edges=read_all,
    )


def resolution_basis(warehouse) -> str:
    """What people depend on besides the edges: the blocklist's patterns and the rules' version, hashed."""
    patterns = sorted(
        str(p) for p in warehouse.read_text(f"select pattern from {BLOCKLIST}").column("pattern").to_pylist()
    )
    return hashlib.sha256(repr((RULES_VERSION, patterns)).encode()).hexdigest()


def last_state(warehouse) -> dict | None:
    """Last night's state row, as text (None: no state, or not one row)."""
    if not warehouse.has_table(STATE_TABLE):
        return None
    rows = warehouse.read_text(f"select * from {STATE_TABLE}").to_pylist()
    return rows[0] if len(rows) == 1 else None


def state_holds(warehouse, basis: str, state: dict | None) -> bool:
    """Whether last night's people can be updated: they were resolved with this basis, and their rows are the
    ones written (see the module's docstring)."""
    if state is None or not warehouse.has_table(EDGES_STATE):
        return False
    people_rows = warehouse.read_text(f"select count(*) as n from {PEOPLE_TABLE}").column("n")[0].as_py()
    return state["basis"] == basis and state["people_rows"] == str(people_rows)


def resolved_at(state: dict) -> datetime | None:
    """When last night's people were resolved (None: a state written before the time was kept)."""
    value = state.get("resolved_at")
    return datetime.fromisoformat(value) if value else None


def has_split_views(warehouse) -> bool:
    """Whether the edges can be read in their two parts (leads and orders, touchpoint deliveries)."""
    return all(warehouse.has_table(name) for name in (RECORD_EDGES, TOUCHPOINT_EDGES, TOUCHPOINTS))


def split_state(sql: ComponentsSql) -> dict[str, str]:
    """The tables a night that reads only new touchpoints starts from: tonight's leads' and orders' edges, and up
    to which load the staged touchpoints were read."""
    return {RECORD_EDGES_STATE: sql.kept_edges(sql.record_edges), TOUCHPOINTS_READ: sql.touchpoints_read(TOUCHPOINTS)}


def check_edges(warehouse, sql: ComponentsSql, view: str) -> None:
    missing = int(warehouse.read_text(sql.missing_left()).column("n")[0].as_py())
    if missing:  # a broken edge view: checked on the rows read anyway, not by a dbt test computing it again
        raise ValueError(f"{view}: {missing} edge(s) without a left_identifier")


def new_edges_added(warehouse, sql: ComponentsSql) -> int | None:
    """How many edges are new tonight, read from the leads' and orders' edges and the touchpoints loaded since
    last night only: possible when no staged touchpoint row of last night's is gone (unloaded, erased), none
    loaded since re-delivers an earlier touchpoint, and no edge of last night's leads and orders is gone. Then
    the edges only grew. None when the edges must be read whole."""
    if not (warehouse.has_table(TOUCHPOINTS_READ) and warehouse.has_table(RECORD_EDGES_STATE)):
        return None
    read = warehouse.read_text(f"select touchpoints_through, touchpoint_rows from {TOUCHPOINTS_READ}").to_pylist()
    if len(read) != 1 or read[0]["touchpoints_through"] is None:
        return None
    since = warehouse.read_text(sql.touchpoints_since(TOUCHPOINTS, TOUCHPOINTS_READ)).to_pylist()[0]
    if since["rows_through"] != read[0]["touchpoint_rows"] or int(since["redelivered"]):
        return None
    warehouse.create_table_as(sql.edges, sql.read_new_edges(TOUCHPOINT_EDGES, TOUCHPOINTS_READ))
    check_edges(warehouse, sql, f"{RECORD_EDGES} or {TOUCHPOINT_EDGES}")
    gone = warehouse.read_text(sql.select_gone_records(sql.previous_edges(RECORD_EDGES_STATE))).column("n")[0]
    if int(gone.as_py()):
        return None
    warehouse.create_table_as(sql.added, sql.select_added(sql.previous_edges(EDGES_STATE)))
    return int(warehouse.read_text(sql.count_changes()).to_pylist()[0]["added"] or 0)


def edges_added(warehouse, sql: ComponentsSql) -> int | None:
    """How many of tonight's edges (all read) are new when last night's people can be updated with them; None
    when people must be solved whole (see the module's docstring)."""
    warehouse.create_table_as(sql.added, sql.select_changes(sql.previous_edges(EDGES_STATE)))
    changes = warehouse.read_text(sql.count_changes()).to_pylist()[0]
    if int(changes["removed"] or 0):
        return None
    return int(changes["added"] or 0)


def solve_whole(warehouse, sql: ComponentsSql) -> tuple[int, str]:
    """People from tonight's edges alone: the label rounds it took, and the work table of the people."""
    warehouse.create_table_as(sql.nodes, sql.select_nodes(BLOCKLIST))
    warehouse.create_table_as(sql.links, sql.select_links())
    labels, rounds = label_components(warehouse, sql)
    warehouse.create_table_as(sql.people, sql.select_people(labels))
    warehouse.create_table_as(sql.moves, sql.no_moves())
    return rounds, sql.people


def update_people(warehouse, sql: ComponentsSql) -> tuple[int, str]:
    """Last night's people with tonight's new edges: the components they merge are labelled over a graph of the
    touched people's roots and the new identifiers. The label rounds it took, and where tonight's people are: the
    people table itself, updated where it is, on an engine that updates rows (the state row is gone already, so a
    run that stops after this solves whole the next night); else a work table, written over it at the end."""
    warehouse.create_table_as(sql.new_nodes, sql.select_new_nodes(BLOCKLIST, PEOPLE_TABLE))
    warehouse.create_table_as(sql.roots, sql.select_roots(PEOPLE_TABLE))
    warehouse.create_table_as(sql.links, sql.select_root_links(PEOPLE_TABLE))
    labels, rounds = label_components(warehouse, sql)
    warehouse.create_table_as(sql.moves, sql.select_moves(labels))
    if warehouse.updates_rows:
        warehouse.change(sql.update_people(labels, PEOPLE_TABLE))
        return rounds, sql.people_by_bytes(PEOPLE_TABLE)
    warehouse.create_table_as(sql.people, sql.select_updated_people(labels, PEOPLE_TABLE))
    return rounds, sql.people


def state_row(basis: str, people_rows: int, updated_from: datetime | None) -> pa.Table:
    """`resolved_at`: now, by the clock (unique per resolution, unlike a run's `now`); `updated_from`: the
    `resolved_at` of the people tonight's updated (with the moves of MOVES_TABLE), None after a whole solve. A
    model that read last night's people follows tonight's with the moves when it read those (docs/identity.md)."""
    return pa.table(
        {
            "basis": pa.array([basis], pa.string()),
            "people_rows": pa.array([people_rows], pa.int64()),
            "resolved_at": pa.array([datetime.now(UTC).replace(tzinfo=None)], pa.timestamp("us")),
            "updated_from": pa.array([updated_from], pa.timestamp("us")),
        }
    )


@contextmanager
def scratch_tables(warehouse, sql: ComponentsSql) -> Iterator[None]:
    """The resolution's scratch tables, dropped before (an interrupted run's) and after, whatever happens."""
    for name in sql.scratch:
        warehouse.drop_table(name)
    try:
        yield
    finally:
        for name in sql.scratch:
            warehouse.drop_table(name)


def label_components(warehouse, sql: ComponentsSql) -> tuple[str, int]:
    """Labels every linked identifier with its component's smallest identifier; returns the labels table and the
    rounds it took (the last one changed nothing)."""
    warehouse.create_table_as(sql.labels(0), sql.first_labels())
    for round_ in range(1, MAX_ROUNDS + 1):
        new, old = sql.labels(round_), sql.labels(round_ - 1)
        warehouse.create_table_as(new, sql.next_labels(old))
        if int(warehouse.read_text(sql.changed(new, old)).column("n")[0].as_py()) == 0:
            return new, round_
    raise RuntimeError(f"identity resolution: labels still changing after {MAX_ROUNDS} rounds")


def primary_hashes(primaries: pa.Table, key: bytes) -> pa.Table:
    """One row per person with an email or phone: the keyed hash of each primary value, sorted by person. Hashed
    in an in-memory DuckDB of this process (`privacy.hmac_sha256_sql`, the same digests as `keyed_hash`): the key
    stays here, whatever engine holds the warehouse, and the digests are computed in parallel, not one Python call
    per value (4.7 -> 1.9 s at 1 M leads)."""
    digest = hmac_sha256_sql("value", key)
    with duckdb.connect() as con:
        con.register("primaries", primaries)
        found = con.sql(
            f"""
            with hashed as (select person_id, kind, {digest} as value_hash from primaries)
            select person_id,
                max(case when kind = 'email' then value_hash end) as email_hash,
                max(case when kind = 'phone' then value_hash end) as phone_hash
            from hashed group by person_id order by person_id
            """
        ).to_arrow_table()
    return found.cast(pa.schema([("person_id", pa.string()), ("email_hash", pa.string()), ("phone_hash", pa.string())]))


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
