"""Every path and setting of closedloop, read from the environment in one place: `load_settings`.

A setting has one home, a field of `Settings`, read from its `CLOSEDLOOP_*` variable in `load_settings` and
nowhere else (no module reads `os.environ` for a closedloop setting). From there each value reaches whoever uses
it:

- **Business values** (margins, horizons, attribution windows, SLAs, …) reach dbt as `--vars` (`dbt_vars`,
  `dbt_vars_args`): every `dbt build`, `dbt run-operation`, `dbt docs generate` and `dbt parse` the job starts
  passes them, so a value set once (its variable, or a `Settings` built in code) is what both the SQL and the
  Python steps (the CLV fit) use. The `vars:` of dbt_project.yml keep literal defaults equal to the defaults
  here (tests/unit/test_settings.py checks they agree) for dbt started by hand; Python never reads them.
- **Connection settings** (the dbt target, the data dir, PostgreSQL host/port/user/password/database, DuckDB's
  memory limit) reach dbt as environment variables (`dbt_env`) that dbt_project/profiles.yml reads with
  `env_var()`: a dbt profile is rendered before vars exist and cannot take `--vars`, and a password must not
  appear in dbt's artefacts (run_results.json records `--vars`). The same fields give psycopg2 and SQLAlchemy
  their connection (`postgres_conninfo`), so Dagster, the CLI and dbt always agree on where the warehouse is.
- **Secrets** (`pii_key`, `serving_url`) never go to dbt and are never shown (`repr=False`).
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
DBT_PROJECT_DIR = REPO_ROOT
DBT_PROFILES_DIR = REPO_ROOT / "dbt_project"
# the dbt installed beside this Python (the venv's), whether or not the venv is on PATH
DBT_EXECUTABLE = shutil.which("dbt", path=str(Path(sys.executable).parent)) or "dbt"

SOURCES = (
    "touchpoints",
    "leads",
    "deals",
    "deal_stage_history",
    "activities",
    "ad_spend",
    "orders",
    "fx_rates",
    "erasure_requests",
)
REQUIRED_SOURCES = ("touchpoints", "leads", "deals")

ATTRIBUTION_MODELS = (
    "first_touch",
    "last_touch",
    "last_non_direct",
    "linear",
    "position_based",
    "time_decay",
    "j_shaped",
    "inverse_j",
    "w_shaped",
    "full_path",
    "markov",
    "shapley",
)
# the Settings fields dbt reads as vars `closedloop__<field>` (README *Settings* lists their variables)
DBT_VARS = (
    # Customers, LTV and RFM (docs/metrics.md); marts rebuild nightly: changes apply to all history
    "default_gross_margin",
    "clv_horizon_months",
    "clv_monthly_discount_rate",
    "service_cost_per_month",
    "ltv_npv_years",
    "ltv_annual_discount_rate",
    "ltv_max_lifetime_multiple",
    "ltv_min_customers",
    "ltv_benchmark_industry",
    "ltv_cac_attribution_model",
    "acquisition_attribution_model",
    "dormancy_first_months",
    "dormancy_step_months",
    "dormancy_churned_months",
    "base_currency",
    "internal_hosts",
    # Attribution (docs/attribution.md)
    "lookback_days",
    "lookback_days_by_type",
    "half_life_days",
    "attribution_models",
    # Funnel and speed-to-lead (docs/metrics.md)
    "mql_threshold",
    "lead_score_window_days",
    "business_timezone",
    "business_days",
    "business_hours_start",
    "business_hours_end",
    "sla_high_intent_business_minutes",
    "sla_min_attempts",
    "sla_attempts_window_hours",
    "recycle_after_days",
)


@dataclass(frozen=True)
class Settings:
    landing_dir: Path
    data_dir: Path
    dbt_target: str = "duckdb"
    csv_encoding: str = "utf-8"
    default_phone_region: str = "US"
    base_currency: str = "USD"  # amounts are converted to it with raw fx_rates (dbt var)
    max_quarantine_rate: float = 0.02
    max_duplicate_contact_rate: float = 0.05  # warning threshold of identity resolution (docs/quality-gate.md)
    shapley_max_channels: int = 12  # paths with more distinct channels are credited linearly (docs/attribution.md)
    keep_runs: int = 14  # dbt artefacts and run history kept for this many runs (orchestration/lib/housekeeping.py)
    serving_url: str | None = field(default=None, repr=False)  # PostgreSQL for BI; holds a password: never shown
    # the key of the keyed hashes of personal data (orchestration/lib/privacy.py); empty: <data dir>/pii.key
    pii_key: str = field(default="", repr=False)
    quiet: bool = False  # no progress lines on stderr (orchestration/lib/progress.py)
    # --- connection of the dbt profile (dbt_env) and of psycopg2 (postgres_conninfo) ---
    pg_host: str = "localhost"
    pg_port: int = 5432
    pg_user: str = "closedloop"
    pg_password: str = field(default="", repr=False)
    pg_database: str = "closedloop"
    duckdb_memory_limit: str = "7GB"  # bounded: a full build of tens of millions of touchpoints spills to disk
    # models built side by side on DuckDB: each query already uses every core, so more only shares the cores and the
    # memory limit (four threads cost a fifth more CPU and 1.6 GB more memory at 1 M leads, docs/benchmarks.md)
    dbt_threads: int = 2
    # --- Spark (docs/engines.md#spark): the local session, or a cluster's Thrift server and Spark Connect ---
    spark_master: str = "local[*]"
    spark_driver_memory: str = "4g"
    spark_shuffle_partitions: int = 8  # Spark's default of 200 is for clusters: on small nights, 200 tiny tasks a join
    spark_host: str = "127.0.0.1"  # dbt's Thrift server; a local run starts its own on a free port
    spark_port: int | None = None  # a cluster's Thrift port; unset: the local session's
    # how dbt and the gate sign in to a cluster's Thrift server (its hive.server2.authentication): NOSASL, NONE,
    # LDAP, CUSTOM or KERBEROS; the local session's server is NOSASL
    spark_auth: str = "NOSASL"
    spark_user: str = ""
    spark_password: str = field(default="", repr=False)  # LDAP and CUSTOM only
    spark_kerberos_service: str = ""  # KERBEROS only, e.g. `hive`
    spark_connect_url: str = ""  # `sc://host:15002`: the Python steps use the cluster through Spark Connect
    spark_log_level: str = "FATAL"  # Spark's own log; dbt reports a failing statement itself
    # --- business values, passed to dbt as vars closedloop__<name> (DBT_VARS) ---
    # Customers, LTV and CLV, shared by the SQL and the CLV step
    default_gross_margin: float = 0.7  # where an order carries no gross_margin (and for won deals, ROI)
    clv_horizon_months: int = 12  # (f) probabilistic CLV horizon
    clv_monthly_discount_rate: float = 0.01  # (f) from month 1
    service_cost_per_month: float = 0.0  # (f) cost to serve a customer per month
    ltv_npv_years: int = 3  # (d) NPV horizon H in years, projected by the CLV step
    ltv_annual_discount_rate: float = 0.10  # (d) NPV discount rate d per year, from year 1
    # LTV rows whose implied lifetime exceeds this many times the observed window, or with fewer customers than
    # ltv_min_customers, say `low` confidence
    ltv_max_lifetime_multiple: int = 3
    ltv_min_customers: int = 30
    ltv_benchmark_industry: str = "b2b_saas"  # LTV:CAC benchmark (ltv_cac_benchmarks seed) of non-industry rows
    ltv_cac_attribution_model: str = "position_based"  # attribution model of mart_channel_roi whose CAC is used
    # a customer's acquisition channel: the channel with the largest share of their first won deal under this model
    acquisition_attribution_model: str = "first_touch"
    dormancy_first_months: int = 9  # RFM dormancy: `active` below this many months since the last purchase
    dormancy_step_months: int = 3  # then a reactivation step (dormant_9m, dormant_12m, …) every this many months
    dormancy_churned_months: int = 36  # `churned` from this many months
    internal_hosts: tuple[str, ...] = ()  # extra hosts of the company's own site (their referrers are not external)
    # Attribution: changing any of these re-credits history (attribution rebuilds in full every night)
    lookback_days: int = 90  # days before a conversion whose touches are on its path …
    lookback_days_by_type: tuple[tuple[str, int], ...] = ()  # … per conversion type, e.g. (("deal_won", 180),)
    half_life_days: int = 7  # time_decay: a touch this many days older than another gets half its weight
    attribution_models: tuple[str, ...] = ATTRIBUTION_MODELS  # the models fct_attribution publishes, in this order
    # Funnel and speed-to-lead
    mql_threshold: int = 40
    lead_score_window_days: int = 90
    business_timezone: str = "UTC"  # business hours: an IANA time zone, ISO weekdays (1 = Monday), local HH:MM
    business_days: str = "1,2,3,4,5"
    business_hours_start: str = "09:00"
    business_hours_end: str = "18:00"
    sla_high_intent_business_minutes: int = 60  # first response for high-intent leads
    sla_min_attempts: int = 3  # attempts rule: this many attempts …
    sla_attempts_window_hours: int = 48  # … within this many hours
    recycle_after_days: int = 14  # recycling to marketing
    # a landing file is taken only once it is complete (docs/landing-zone.md): unchanged for this long …
    landing_settle_seconds: float = 5.0
    # … and, when set, only after this marker file (e.g. _SUCCESS) appeared in its folder, newer than the file
    landing_ready_marker: str = ""

    @property
    def warehouse_path(self) -> Path:
        return self.data_dir / "warehouse.duckdb"

    @property
    def serving_path(self) -> Path:
        return self.data_dir / "serving.duckdb"

    @property
    def lock_path(self) -> Path:
        """Held by the one writer of the data dir: a run, or an erasure."""
        return self.data_dir / ".closedloop.lock"

    @property
    def quality_dir(self) -> Path:
        return self.data_dir / "quality"

    @property
    def report_path(self) -> Path:
        return self.data_dir / "report" / "index.html"

    @property
    def exports_dir(self) -> Path:
        return self.data_dir / "exports"

    @property
    def logs_dir(self) -> Path:
        return self.data_dir / "logs"

    @property
    def dbt_target_dir(self) -> Path:
        """Where dagster-dbt puts each dbt invocation's folder (per data dir, pruned to the last runs)."""
        return self.data_dir / "dbt" / "target"

    @property
    def dagster_home(self) -> Path:
        return self.data_dir / "dagster"

    def dbt_vars(self) -> dict[str, object]:
        """The business values as dbt vars (`closedloop__<field>`), JSON types: tuples become lists."""
        values = {}
        for name in DBT_VARS:
            value = getattr(self, name)
            if name == "lookback_days_by_type":
                value = dict(value)
            elif isinstance(value, tuple):
                value = list(value)
            values[f"closedloop__{name}"] = value
        return values

    def dbt_vars_args(self) -> list[str]:
        """`--vars` for a dbt command: every invocation of the job passes them."""
        return ["--vars", json.dumps(self.dbt_vars(), sort_keys=True)]

    def dbt_env(self) -> dict[str, str]:
        """Environment variables the dbt profile reads (absolute paths: dbt may run from another cwd)."""
        return {
            "CLOSEDLOOP_DATA_DIR": str(self.data_dir.resolve()),
            "CLOSEDLOOP_LANDING_DIR": str(self.landing_dir.resolve()),
            "CLOSEDLOOP_DBT_TARGET": self.dbt_target,
            "CLOSEDLOOP_PG_HOST": self.pg_host,
            "CLOSEDLOOP_PG_PORT": str(self.pg_port),
            "CLOSEDLOOP_PG_USER": self.pg_user,
            "CLOSEDLOOP_PG_PASSWORD": self.pg_password,
            "CLOSEDLOOP_PG_DATABASE": self.pg_database,
            "CLOSEDLOOP_DUCKDB_MEMORY_LIMIT": self.duckdb_memory_limit,
            "CLOSEDLOOP_DBT_THREADS": str(self.dbt_threads),
            "CLOSEDLOOP_SPARK_HOST": self.spark_host,
            **({"CLOSEDLOOP_SPARK_PORT": str(self.spark_port)} if self.spark_port else {}),
            "CLOSEDLOOP_SPARK_AUTH": self.spark_auth,
            "CLOSEDLOOP_SPARK_USER": self.spark_user,
            "CLOSEDLOOP_SPARK_PASSWORD": self.spark_password,
            "CLOSEDLOOP_SPARK_KERBEROS_SERVICE": self.spark_kerberos_service,
            "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
            "DBT_LOG_PATH": str(self.logs_dir.resolve()),
            "DBT_TARGET_PATH": str(self.dbt_target_dir.resolve()),
            "DO_NOT_TRACK": "1",
        }

    def postgres_conninfo(self) -> dict[str, str | int]:
        """psycopg2 connection keywords of the PostgreSQL build warehouse (the server the dbt profile uses)."""
        conninfo: dict[str, str | int] = {
            "host": self.pg_host,
            "port": self.pg_port,
            "user": self.pg_user,
            "dbname": self.pg_database,
        }
        if self.pg_password:
            conninfo["password"] = self.pg_password
        return conninfo


def load_settings(
    landing_dir: str | Path | None = None, data_dir: str | Path | None = None, environ: Mapping[str, str] | None = None
) -> Settings:
    """Flags beat environment variables, which beat the defaults (`data/landing`, `data`)."""
    env = os.environ if environ is None else environ
    data = Path(data_dir or env.get("CLOSEDLOOP_DATA_DIR") or REPO_ROOT / "data")
    landing = Path(landing_dir or env.get("CLOSEDLOOP_LANDING_DIR") or data / "landing")
    defaults = Settings(landing_dir=landing, data_dir=data)

    def get(name: str, variable: str, kind=str):
        raw = env.get(variable)
        if raw is None or not raw.strip():
            return getattr(defaults, name)
        raw = raw.strip()
        if kind is tuple:
            return tuple(part.strip() for part in raw.split(",") if part.strip())
        if kind is bool:
            return raw.lower() in ("1", "true", "yes")
        return kind(raw)

    business = {
        "ltv_annual_discount_rate": float,
        "ltv_max_lifetime_multiple": int,
        "ltv_min_customers": int,
        "ltv_benchmark_industry": str,
        "ltv_cac_attribution_model": str,
        "acquisition_attribution_model": str,
        "dormancy_first_months": int,
        "dormancy_step_months": int,
        "dormancy_churned_months": int,
        "internal_hosts": tuple,
        "lookback_days": int,
        "half_life_days": int,
        "attribution_models": tuple,
        "mql_threshold": int,
        "lead_score_window_days": int,
        "business_timezone": str,
        "business_days": str,
        "business_hours_start": str,
        "business_hours_end": str,
        "sla_high_intent_business_minutes": int,
        "sla_min_attempts": int,
        "sla_attempts_window_hours": int,
        "recycle_after_days": int,
    }
    return Settings(
        landing_dir=landing.resolve(),
        data_dir=data.resolve(),
        dbt_target=get("dbt_target", "CLOSEDLOOP_DBT_TARGET"),
        csv_encoding=get("csv_encoding", "CLOSEDLOOP_CSV_ENCODING"),
        default_phone_region=get("default_phone_region", "CLOSEDLOOP_DEFAULT_REGION"),
        base_currency=get("base_currency", "CLOSEDLOOP_BASE_CURRENCY"),
        max_quarantine_rate=get("max_quarantine_rate", "CLOSEDLOOP_MAX_QUARANTINE_RATE", float),
        max_duplicate_contact_rate=get("max_duplicate_contact_rate", "CLOSEDLOOP_MAX_DUPLICATE_CONTACT_RATE", float),
        shapley_max_channels=get("shapley_max_channels", "CLOSEDLOOP_SHAPLEY_MAX_CHANNELS", int),
        keep_runs=get("keep_runs", "CLOSEDLOOP_KEEP_RUNS", int),
        serving_url=env.get("CLOSEDLOOP_SERVING_URL") or None,
        pii_key=env.get("CLOSEDLOOP_PII_KEY", ""),
        quiet=env.get("CLOSEDLOOP_QUIET") == "1",
        pg_host=get("pg_host", "CLOSEDLOOP_PG_HOST"),
        pg_port=get("pg_port", "CLOSEDLOOP_PG_PORT", int),
        pg_user=get("pg_user", "CLOSEDLOOP_PG_USER"),
        pg_password=env.get("CLOSEDLOOP_PG_PASSWORD", ""),
        pg_database=get("pg_database", "CLOSEDLOOP_PG_DATABASE"),
        duckdb_memory_limit=get("duckdb_memory_limit", "CLOSEDLOOP_DUCKDB_MEMORY_LIMIT"),
        dbt_threads=get("dbt_threads", "CLOSEDLOOP_DBT_THREADS", int),
        spark_master=get("spark_master", "CLOSEDLOOP_SPARK_MASTER"),
        spark_driver_memory=get("spark_driver_memory", "CLOSEDLOOP_SPARK_DRIVER_MEMORY"),
        spark_shuffle_partitions=get("spark_shuffle_partitions", "CLOSEDLOOP_SPARK_SHUFFLE_PARTITIONS", int),
        spark_host=get("spark_host", "CLOSEDLOOP_SPARK_HOST"),
        spark_port=int(env["CLOSEDLOOP_SPARK_PORT"]) if env.get("CLOSEDLOOP_SPARK_PORT") else None,
        spark_auth=get("spark_auth", "CLOSEDLOOP_SPARK_AUTH").upper(),
        spark_user=get("spark_user", "CLOSEDLOOP_SPARK_USER"),
        spark_password=env.get("CLOSEDLOOP_SPARK_PASSWORD", ""),
        spark_kerberos_service=get("spark_kerberos_service", "CLOSEDLOOP_SPARK_KERBEROS_SERVICE"),
        spark_connect_url=env.get("CLOSEDLOOP_SPARK_CONNECT_URL", ""),
        spark_log_level=get("spark_log_level", "CLOSEDLOOP_SPARK_LOG_LEVEL"),
        default_gross_margin=get("default_gross_margin", "CLOSEDLOOP_DEFAULT_GROSS_MARGIN", float),
        clv_horizon_months=get("clv_horizon_months", "CLOSEDLOOP_CLV_HORIZON_MONTHS", int),
        clv_monthly_discount_rate=get("clv_monthly_discount_rate", "CLOSEDLOOP_CLV_MONTHLY_DISCOUNT_RATE", float),
        service_cost_per_month=get("service_cost_per_month", "CLOSEDLOOP_SERVICE_COST_PER_MONTH", float),
        ltv_npv_years=get("ltv_npv_years", "CLOSEDLOOP_LTV_NPV_YEARS", int),
        lookback_days_by_type=_lookback_by_type(env.get("CLOSEDLOOP_LOOKBACK_DAYS_BY_TYPE", "")),
        **{name: get(name, f"CLOSEDLOOP_{name.upper()}", kind) for name, kind in business.items()},
        landing_settle_seconds=get("landing_settle_seconds", "CLOSEDLOOP_LANDING_SETTLE_SECONDS", float),
        landing_ready_marker=env.get("CLOSEDLOOP_LANDING_READY_MARKER", "").strip(),
    )


def _lookback_by_type(text: str) -> tuple[tuple[str, int], ...]:
    """`deal_won=180,lead=30` (or the JSON object `{"deal_won": 180}`) → (("deal_won", 180), ("lead", 30))."""
    text = text.strip()
    if not text:
        return ()
    if text.startswith("{"):
        pairs = json.loads(text).items()
    else:
        pairs = (part.split("=", 1) for part in text.split(",") if part.strip())
    return tuple(sorted((str(kind).strip(), int(days)) for kind, days in pairs))


def apply_to_environment(settings: Settings) -> None:
    """Export the settings so dbt subprocesses and the Dagster definitions read the same values."""
    os.environ.update(settings.dbt_env())
    os.environ["CLOSEDLOOP_LANDING_DIR"] = str(settings.landing_dir)
    os.environ.setdefault("DAGSTER_HOME", str(settings.dagster_home))
