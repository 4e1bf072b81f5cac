"""People as connected components over identifiers (docs/identity.md), computed in SQL inside the warehouse engine.

Identifiers are typed strings (`email:ann@gmail.com`, `phone:+14155550101`, `anon:c-123`), already normalised.
Every record (lead, touchpoint, order) that carries two identifiers links them (the view
`int_identity__edges` lists the distinct pairs). Blocklisted identifiers never link anybody: junk emails listed in
the seed `dbt_project/seeds/identity_blocklist.csv` and phones whose number is one digit repeated (a rule, here).

The components are found by min-label propagation with pointer jumping: every linked identifier starts labelled
with itself; each round it takes the smallest label among itself and its neighbours, then the label of that label.
Labels only fall and always name a member of the component, so when a round changes nothing every identifier
carries its component's smallest identifier; pointer jumping makes the rounds few (logarithmic in the longest chain).
Each round is one join and one group-by, so it runs wherever the edges are: DuckDB, PostgreSQL or a Spark cluster.

A person is keyed by `p_` + the first 16 hex digits of the MD5 of its smallest identifier (every engine has md5):
the same every run and on every engine, whatever the order of the data.

A night whose edges only add to last night's (nothing gone, the same blocklist) updates last night's people instead
of solving again: edges only merge components, and a merged component's smallest identifier is the smallest of
the merged ones' (each already its person's smallest identifier). The new edges link those smallest identifiers
(the roots) and the new identifiers; the same label rounds, over that small graph, give each root its new root.

The statements here are written once, in SQL that DuckDB and PostgreSQL both run (Spark gets them translated, see
`warehouse.py`); `engine` only decides how strings compare. The pipeline step around them is `people.py`.
"""

from __future__ import annotations

import csv
from pathlib import Path

BLOCKLIST_SEED = Path(__file__).resolve().parents[2] / "dbt_project" / "seeds" / "identity_blocklist.csv"
WORK = "intermediate.identity_work_"  # prefix of the scratch tables of one resolution
MAX_ROUNDS = 64  # pointer jumping needs about log2(longest chain) rounds; more means a broken label table


def read_blocklist_seed(path: Path = BLOCKLIST_SEED) -> tuple[str, ...]:
    """The email patterns of the blocklist seed file (the pipeline reads the seeded table instead)."""
    with Path(path).open(newline="", encoding="utf-8") as handle:
        return tuple(row["pattern"] for row in csv.DictReader(handle) if row["pattern"])


def blocked_sql(identifiers: str, patterns: str, binary: str = "") -> str:
    """The query of the blocked rows of relation `identifiers` (column `identifier`): emails matching a pattern of
    relation `patterns` (column `pattern`) — a whole address (`test@test.com`), a domain (`@example.com`) or a
    mailbox at any domain (`noreply@`), compared lowercased and trimmed — and phones whose number is one digit
    repeated (the last seven or more digits are the same). Semi-joins on equality, no pattern matching per row.
    `binary`: the collation clause of the identifiers, given to the patterns so that the two compare."""
    digits = "regexp_replace(identifier, '[^0-9]', '', 'g')"
    return f"""
        with patterns as (
            select distinct lower(trim(pattern)){binary} as pattern from {patterns}
            where pattern is not null and trim(pattern) <> ''
        ),
        emails as (
            select identifier, substr(identifier, 7) as address, strpos(substr(identifier, 7), '@') as at_sign
            from {identifiers} where identifier like 'email:%'
        )
        select identifier from emails
        where address in (select pattern from patterns where pattern not like '@%' and pattern not like '%@')
        union
        select identifier from emails
        where at_sign > 0
            and substr(address, at_sign + 1) in (select substr(pattern, 2) from patterns where pattern like '@%')
        union
        select identifier from emails
        where at_sign > 0 and substr(address, 1, at_sign - 1) in (
            select substr(pattern, 1, length(pattern) - 1) from patterns
            where pattern like '%@' and pattern not like '@%'
        )
        union
        select identifier from {identifiers}
        where identifier like 'phone:%' and length({digits}) >= 7 and right({digits}, 7) = repeat(right({digits}, 1), 7)
    """


class ComponentsSql:
    """The statements of one resolution on `engine` (duckdb, postgres, spark), over the scratch tables `WORK*`."""

    edges = WORK + "edges"  # the distinct pairs read once from the edges view (right null: seen alone)
    nodes = WORK + "nodes"  # every identifier that is not blocked
    links = WORK + "links"  # both directions of every pair of two nodes
    people = WORK + "people"  # identifier → person_id
    # an update of last night's people: tonight's edges that are new, the identifiers among them that are new and
    # not blocked, and the root (smallest identifier) of each person a new edge touches
    # last night's edges gone tonight and tonight's new ones; an update runs only when none is gone, so then these
    # are the added edges
    added = WORK + "changes"
    new_nodes = WORK + "new_nodes"
    roots = WORK + "roots"
    moves = WORK + "moves"  # person_id → person_id_now of last night's people merged tonight (none after a solve)
    record_edges = WORK + "record_edges"  # the leads' and orders' edges, read whole every night
    scratch = (
        edges,
        nodes,
        links,
        WORK + "labels_0",
        WORK + "labels_1",
        people,
        added,
        new_nodes,
        roots,
        moves,
        record_edges,
    )

    def __init__(self, engine: str):
        # PostgreSQL compares text by the database's locale; identifiers are ordered by their bytes everywhere
        self.binary = ' collate "C"' if engine == "postgres" else ""
        self.default = ' collate "default"' if engine == "postgres" else ""

    @staticmethod
    def labels(round_: int) -> str:
        return f"{WORK}labels_{round_ % 2}"

    def read_edges(self, view: str) -> str:
        return f"select distinct left_identifier{self.binary} as a, right_identifier{self.binary} as b from {view}"

    def read_new_edges(self, touchpoint_edges: str, since: str) -> str:
        """Tonight's edges when only touchpoints were added: the leads' and orders' (`record_edges`, read already)
        and those of the touchpoint deliveries of view `touchpoint_edges` loaded after `since`'s timestamp."""
        return f"""
            select a, b from {self.record_edges}
            union
            select left_identifier{self.binary}, right_identifier{self.binary} from {touchpoint_edges}
            where _loaded_at > (select touchpoints_through from {since})
        """

    @staticmethod
    def touchpoints_read(touchpoints: str) -> str:
        """The newest load time of the staged touchpoints and how many rows were loaded by then."""
        return f"select max(_loaded_at) as touchpoints_through, count(_loaded_at) as touchpoint_rows from {touchpoints}"

    @staticmethod
    def touchpoints_since(touchpoints: str, since: str) -> str:
        """Of the staged touchpoints, how many were loaded by `since`'s timestamp, and how many ids loaded after it
        were delivered by then too (re-deliveries, which can take an edge away)."""
        through = f"(select touchpoints_through from {since})"
        return f"""
            select
                (select count(*) from {touchpoints} where _loaded_at <= {through}) as rows_through,
                (select count(*) from (select distinct touchpoint_id from {touchpoints} where _loaded_at > {through}) n
                 join (select touchpoint_id from {touchpoints} where _loaded_at <= {through}) o
                 on o.touchpoint_id = n.touchpoint_id) as redelivered
        """

    def select_gone_records(self, previous: str) -> str:
        """Last night's leads' and orders' edges (`previous`, kept edges) that none of tonight's edges is."""
        return f"""
            select count(*) as n from {previous} o
            where not exists (select 1 from {self.edges} n where {self._same_edge("o", "n")})
        """

    def select_added(self, previous: str) -> str:
        """Tonight's edges that last night's (`previous`) do not have, as select_changes gives them when none is
        gone: (a, b, is_new)."""
        return f"""
            select n.a, n.b, 1 as is_new from {self.edges} n
            where not exists (select 1 from {previous} o where {self._same_edge("o", "n")})
        """

    def missing_left(self) -> str:
        return f"select count(*) as n from {self.edges} where a is null"

    def select_nodes(self, blocklist: str) -> str:
        identifiers = f"(select a as identifier from {self.edges} union select b from {self.edges} where b is not null)"
        return f"""
            with identifiers as {identifiers},
            blocked as ({blocked_sql("identifiers", blocklist, self.binary)})
            select i.identifier from identifiers i left join blocked b on b.identifier = i.identifier
            where b.identifier is null
        """

    def select_links(self) -> str:
        return f"""
            with pairs as (select a, b from {self.edges} where b is not null and a <> b),
            both_ways as (select a, b from pairs union select b, a from pairs)
            select w.a, w.b from both_ways w
            join {self.nodes} na on na.identifier = w.a
            join {self.nodes} nb on nb.identifier = w.b
        """

    def first_labels(self) -> str:
        """Round 0: every linked identifier labelled with the smallest of itself and its neighbours."""
        return f"select a as node, least(a, min(b)) as label from {self.links} group by a"

    def next_labels(self, labels: str) -> str:
        """One round: the smallest label among an identifier's and its neighbours', then that label's own label."""
        return f"""
            with hop as (
                select l.a as node, min(p.label) as label from {self.links} l
                join {labels} p on p.node = l.b group by l.a
            ),
            stepped as (
                select p.node, least(p.label, h.label) as label from {labels} p join hop h on h.node = p.node
            )
            select s.node, least(s.label, j.label) as label from stepped s join stepped j on j.node = s.label
        """

    @staticmethod
    def changed(new: str, old: str) -> str:
        return f"select count(*) as n from {new} n join {old} o on o.node = n.node where n.label <> o.label"

    def select_people(self, labels: str) -> str:
        """Every node with the key of its component; an identifier with no link is a component of its own."""
        return f"""
            select n.identifier, 'p_' || substr(md5(coalesce(l.label, n.identifier)), 1, 16) as person_id
            from {self.nodes} n left join {labels} l on l.node = n.identifier
        """

    @staticmethod
    def previous_edges(kept: str) -> str:
        """The edges a past resolution kept (`kept_edges`), as a relation with the work tables' column names."""
        return f"(select left_identifier as a, right_identifier as b from {kept})"

    def kept_edges(self, table: str) -> str:
        """The edges of work table `table` with the kept edges' column names."""
        return f"select a as left_identifier, b as right_identifier from {table}"

    def select_changes(self, previous: str) -> str:
        """The edges of last night (`previous`) gone tonight and tonight's new ones, in one pass: (a, b, is_new)."""
        return f"""
            select coalesce(n.a, o.a) as a, case when n.a is null then o.b else n.b end as b,
                case when n.a is null then 0 else 1 end as is_new
            from {previous} o full join {self.edges} n on {self._same_edge("o", "n")}
            where o.a is null or n.a is null
        """

    def count_changes(self) -> str:
        return f"select sum(1 - is_new) as removed, sum(is_new) as added from {self.added}"

    @staticmethod
    def _same_edge(left: str, right: str) -> str:
        # identifiers always carry a `kind:` prefix, so '' stands for "seen alone" without colliding
        return f"{left}.a = {right}.a and coalesce({left}.b, '') = coalesce({right}.b, '')"

    def _known(self, people: str) -> str:
        """Last night's people, compared by bytes."""
        return f"select identifier{self.binary} as identifier, person_id{self.binary} as person_id from {people}"

    def select_new_nodes(self, blocklist: str, people: str) -> str:
        """The identifiers of the new edges that last night's people do not have and that are not blocked."""
        identifiers = f"(select a as identifier from {self.added} union select b from {self.added} where b is not null)"
        return f"""
            with identifiers as {identifiers},
            blocked as ({blocked_sql("identifiers", blocklist, self.binary)}),
            known as ({self._known(people)})
            select i.identifier from identifiers i
            left join blocked b on b.identifier = i.identifier
            left join known k on k.identifier = i.identifier
            where b.identifier is null and k.identifier is null
        """

    def select_roots(self, people: str) -> str:
        """The root (smallest identifier) of every person of last night that a new edge touches."""
        return f"""
            with known as ({self._known(people)}),
            ends as (select a as identifier from {self.added} union select b from {self.added} where b is not null),
            touched as (select distinct k.person_id from ends e join known k on k.identifier = e.identifier)
            select k.person_id, min(k.identifier) as root from known k
            join touched t on t.person_id = k.person_id group by k.person_id
        """

    def select_root_links(self, people: str) -> str:
        """Both directions of every new edge between two different roots: each end stands for its person's root
        (a new identifier for itself). Ends that are blocked are in neither, so their edges drop out."""
        return f"""
            with known as ({self._known(people)}),
            root_of as (
                select k.identifier, r.root from known k join {self.roots} r on r.person_id = k.person_id
                union all
                select identifier, identifier from {self.new_nodes}
            ),
            pairs as (
                select ra.root as a, rb.root as b from {self.added} e
                join root_of ra on ra.identifier = e.a
                join root_of rb on rb.identifier = e.b
                where e.b is not null and ra.root <> rb.root
            )
            select a, b from pairs union select b, a from pairs
        """

    def select_moves(self, labels: str) -> str:
        """Each of last night's people that a new edge merged into another: its key now, its new root's."""
        return f"""
            select r.person_id, 'p_' || substr(md5(l.label), 1, 16) as person_id_now
            from {self.roots} r join {labels} l on l.node = r.root where l.label <> r.root
        """

    def no_moves(self) -> str:
        """The moves of a whole solve: none (every person may be new; what read the people reads them again)."""
        return f"select person_id, person_id as person_id_now from {self.people} where 1 = 0"

    def select_updated_people(self, labels: str, people: str) -> str:
        """Last night's people, each merged person under its new root's key, and the new identifiers."""
        return f"""
            with known as ({self._known(people)})
            select k.identifier, coalesce(m.person_id_now, k.person_id) as person_id
            from known k left join {self.moves} m on m.person_id = k.person_id
            union all
            select n.identifier, 'p_' || substr(md5(coalesce(l.label, n.identifier)), 1, 16) as person_id
            from {self.new_nodes} n left join {labels} l on l.node = n.identifier
        """

    def update_people(self, labels: str, people: str) -> list[str]:
        """The statements that bring last night's people table `people` to select_updated_people's rows where it
        is, on an engine that updates rows (DuckDB, PostgreSQL): the merged people's rows take their new key and
        the new identifiers are added. A night changes a few per cent of the rows; building them all in a work
        table and copying it over took 7.8 s at 1 M leads (docs/benchmarks.md)."""
        key = f"'p_' || substr(md5(coalesce(l.label, n.identifier)), 1, 16){self.default}"
        return [
            f"update {people} as kept set person_id = m.person_id_now{self.default} from {self.moves} m"
            f" where kept.person_id = m.person_id{self.default}",
            f"insert into {people} (identifier, person_id) select n.identifier{self.default}, {key}"
            f" from {self.new_nodes} n left join {labels} l on l.node = n.identifier",
        ]

    def people_by_bytes(self, people: str) -> str:
        """Table `people` as a relation that compares by bytes, like the work tables."""
        return f"({self._known(people)})"

    def published_people(self) -> str:
        """The people with the database's own collation again (md5 of a `C` label is `C` on PostgreSQL too)."""
        return f"select identifier{self.default} as identifier, person_id{self.default} as person_id from {self.people}"

    def published_moves(self) -> str:
        return (
            f"select person_id{self.default} as person_id, person_id_now{self.default} as person_id_now"
            f" from {self.moves}"
        )

    def primaries(self, people: str | None = None) -> str:
        """Per person and kind (email, phone), the primary value: the first, by its bytes, among those seen on a
        lead (paired with a `lead:` identifier), else among all the person's; without its `kind:` prefix."""
        return f"""
            with on_lead as (
                select b as identifier from {self.edges} where a like 'lead:%' and b is not null
                union
                select a from {self.edges} where b like 'lead:%'
            ),
            candidates as (
                select p.person_id, p.identifier, substr(p.identifier, 1, 5) as kind,
                    case when o.identifier is null then 1 else 0 end as off_lead
                from {people or self.people} p left join on_lead o on o.identifier = p.identifier
                where p.identifier like 'email:%' or p.identifier like 'phone:%'
            ),
            ranked as (
                select person_id, kind, identifier,
                    row_number() over (partition by person_id, kind order by off_lead, identifier) as n
                from candidates
            )
            select person_id, kind, substr(identifier, 7) as value from ranked where n = 1
        """

    def figures(self, people: str | None = None) -> str:
        """Identifiers, people, people with only cookies (anonymous visitors), leads and the people with leads."""
        return f"""
            with per_person as (
                select person_id, count(*) as identifiers,
                    sum(case when identifier like 'anon:%' then 0 else 1 end) as known,
                    sum(case when identifier like 'lead:%' then 1 else 0 end) as leads
                from {people or self.people} as people group by person_id
            )
            select sum(identifiers) as identifiers, count(*) as people,
                sum(case when known = 0 then 1 else 0 end) as anonymous_people,
                sum(leads) as leads, sum(case when leads > 0 then 1 else 0 end) as people_with_leads
            from per_person
        """

    def shared_leads(self, limit: int, people: str | None = None) -> str:
        """The first lead ids, by their bytes, of leads that share their person with another lead."""
        return f"""
            with leads as (
                select person_id, substr(identifier, 6) as lead_id from {people or self.people} as people
                where identifier like 'lead:%'
            ),
            shared as (select person_id from leads group by person_id having count(*) > 1)
            select l.lead_id from leads l join shared s on s.person_id = l.person_id order by l.lead_id limit {limit}
        """
