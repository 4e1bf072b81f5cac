"""Every path and setting of closedloop, read from the environment in one place.

The dbt profile reads the same environment variables (see `dbt_env`), so Dagster, the CLI and dbt always agree
on where the warehouse is.
"""

from __future__ import annotations

import os
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
DBT_PROJECT_DIR = REPO_ROOT
DBT_PROFILES_DIR = REPO_ROOT / "dbt_project"
# the dbt installed beside this Python (the venv's), whether or not the venv is on PATH
DBT_EXECUTABLE = shutil.which("dbt", path=str(Path(sys.executable).parent)) or "dbt"
# the job runs dbt through this wrapper, which dies with the run (orchestration/lib/dbt_child.py)
DBT_CHILD_EXECUTABLE = shutil.which("closedloop-dbt", path=str(Path(sys.executable).parent)) or DBT_EXECUTABLE

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


@dataclass(frozen=True)
class Settings:
    landing_dir: Path
    data_dir: Path
    dbt_target: str = "duckdb"
    csv_encoding: str = "utf-8"
    default_phone_region: str = "US"
    base_currency: str = "USD"
    max_quarantine_rate: float = 0.02
    max_duplicate_contact_rate: float = 0.05  # warning threshold of identity resolution (docs/quality-gate.md)
    shapley_max_channels: int = 12  # paths with more distinct channels are credited linearly (docs/attribution.md)
    keep_runs: int = 14  # dbt artefacts and run history kept for this many runs (orchestration/lib/housekeeping.py)
    serving_url: str | None = field(default=None, repr=False)  # PostgreSQL for BI; holds a password: never shown
    # Customers, LTV and CLV: exported to dbt (dbt_env), whose vars read them, so SQL and the CLV step agree
    default_gross_margin: float = 0.7  # where an order carries no gross_margin (and for won deals, ROI)
    clv_horizon_months: int = 12
    clv_monthly_discount_rate: float = 0.01
    service_cost_per_month: float = 0.0
    ltv_npv_years: int = 3
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

    def dbt_env(self) -> dict[str, str]:
        """Environment variables the dbt profile reads (absolute paths: dbt may run from another cwd)."""
        return {
            "CLOSEDLOOP_DATA_DIR": str(self.data_dir.resolve()),
            "CLOSEDLOOP_LANDING_DIR": str(self.landing_dir.resolve()),
            "CLOSEDLOOP_DBT_TARGET": self.dbt_target,
            "CLOSEDLOOP_BASE_CURRENCY": self.base_currency,
            "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
            "DBT_LOG_PATH": str(self.logs_dir.resolve()),
            "DBT_TARGET_PATH": str(self.dbt_target_dir.resolve()),
            "DO_NOT_TRACK": "1",
            "CLOSEDLOOP_DEFAULT_GROSS_MARGIN": repr(self.default_gross_margin),
            "CLOSEDLOOP_CLV_HORIZON_MONTHS": str(self.clv_horizon_months),
            "CLOSEDLOOP_CLV_MONTHLY_DISCOUNT_RATE": repr(self.clv_monthly_discount_rate),
            "CLOSEDLOOP_SERVICE_COST_PER_MONTH": repr(self.service_cost_per_month),
            "CLOSEDLOOP_LTV_NPV_YEARS": str(self.ltv_npv_years),
        }


def load_settings(landing_dir: str | Path | None = None, data_dir: str | Path | None = None) -> Settings:
    """Flags beat environment variables, which beat the defaults (`data/landing`, `data`)."""
    env = os.environ
    data = Path(data_dir or env.get("CLOSEDLOOP_DATA_DIR") or REPO_ROOT / "data")
    landing = Path(landing_dir or env.get("CLOSEDLOOP_LANDING_DIR") or data / "landing")
    return Settings(
        landing_dir=landing.resolve(),
        data_dir=data.resolve(),
        dbt_target=env.get("CLOSEDLOOP_DBT_TARGET", "duckdb"),
        csv_encoding=env.get("CLOSEDLOOP_CSV_ENCODING", "utf-8"),
        default_phone_region=env.get("CLOSEDLOOP_DEFAULT_REGION", "US"),
        base_currency=env.get("CLOSEDLOOP_BASE_CURRENCY", "USD"),
        max_quarantine_rate=float(env.get("CLOSEDLOOP_MAX_QUARANTINE_RATE", "0.02")),
        max_duplicate_contact_rate=float(env.get("CLOSEDLOOP_MAX_DUPLICATE_CONTACT_RATE", "0.05")),
        shapley_max_channels=int(env.get("CLOSEDLOOP_SHAPLEY_MAX_CHANNELS", "12")),
        keep_runs=int(env.get("CLOSEDLOOP_KEEP_RUNS", "14")),
        serving_url=env.get("CLOSEDLOOP_SERVING_URL") or None,
        default_gross_margin=float(env.get("CLOSEDLOOP_DEFAULT_GROSS_MARGIN", "0.7")),
        clv_horizon_months=int(env.get("CLOSEDLOOP_CLV_HORIZON_MONTHS", "12")),
        clv_monthly_discount_rate=float(env.get("CLOSEDLOOP_CLV_MONTHLY_DISCOUNT_RATE", "0.01")),
        service_cost_per_month=float(env.get("CLOSEDLOOP_SERVICE_COST_PER_MONTH", "0")),
        ltv_npv_years=int(env.get("CLOSEDLOOP_LTV_NPV_YEARS", "3")),
        landing_settle_seconds=float(env.get("CLOSEDLOOP_LANDING_SETTLE_SECONDS", "5")),
        landing_ready_marker=env.get("CLOSEDLOOP_LANDING_READY_MARKER", "").strip(),
    )


def apply_to_environment(settings: Settings) -> None:
    """Export the settings so dbt subprocesses and the Dagster definitions read the same values."""
    os.environ.update(settings.dbt_env())
    os.environ["CLOSEDLOOP_LANDING_DIR"] = str(settings.landing_dir)
    os.environ.setdefault("DAGSTER_HOME", str(settings.dagster_home))
