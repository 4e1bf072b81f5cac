"""One home for each setting: Settings. dbt_project.yml's vars only repeat its defaults, and the job hands the
values to dbt as --vars."""

import json
import os
import subprocess
import sys

import yaml
from pyhive.sqlalchemy_hive import HiveDialect
from sqlalchemy.engine import make_url

from orchestration.lib.quality import warehouse_url
from orchestration.settings import (
    DBT_EXECUTABLE,
    DBT_PROFILES_DIR,
    DBT_PROJECT_DIR,
    DBT_VARS,
    Settings,
    load_settings,
)


def project_vars() -> dict:
    return dict(yaml.safe_load((DBT_PROJECT_DIR / "dbt_project.yml").read_text())["vars"])


def test_every_dbt_var_is_a_setting_with_the_same_default(tmp_path):
    defaults = Settings(landing_dir=tmp_path, data_dir=tmp_path).dbt_vars()
    declared = project_vars()
    assert set(declared) == set(defaults), "a closedloop__ var of dbt_project.yml with no Settings field, or back"
    for name, value in declared.items():
        assert "env_var" not in str(value), f"{name}: dbt vars take the value from --vars, not the environment"
        assert value == defaults[name], f"{name}: dbt_project.yml says {value!r}, Settings {defaults[name]!r}"
    # load_settings with no variable set gives the same defaults
    assert load_settings(tmp_path, tmp_path, environ={}).dbt_vars() == defaults


def test_each_var_is_read_from_its_variable(tmp_path):
    env = {
        "CLOSEDLOOP_MQL_THRESHOLD": "55",
        "CLOSEDLOOP_DEFAULT_GROSS_MARGIN": "0.5",
        "CLOSEDLOOP_ATTRIBUTION_MODELS": "linear, markov",
        "CLOSEDLOOP_INTERNAL_HOSTS": "shop.example.com",
        "CLOSEDLOOP_LOOKBACK_DAYS_BY_TYPE": "deal_won=180",
        "CLOSEDLOOP_BUSINESS_TIMEZONE": "Europe/Paris",
    }
    settings = load_settings(tmp_path, tmp_path, environ=env)
    values = settings.dbt_vars()
    assert values["closedloop__mql_threshold"] == 55 and values["closedloop__default_gross_margin"] == 0.5
    assert values["closedloop__attribution_models"] == ["linear", "markov"]
    assert values["closedloop__internal_hosts"] == ["shop.example.com"]
    assert values["closedloop__lookback_days_by_type"] == {"deal_won": 180}
    assert values["closedloop__business_timezone"] == "Europe/Paris"
    # every DBT_VARS field has its CLOSEDLOOP_<FIELD> variable
    for name in DBT_VARS:
        assert load_settings(tmp_path, tmp_path, environ={}).dbt_vars()[f"closedloop__{name}"] is not None


def test_connection_settings_and_secrets(tmp_path):
    env = {
        "CLOSEDLOOP_PG_HOST": "db",
        "CLOSEDLOOP_PG_PORT": "6543",
        "CLOSEDLOOP_PG_PASSWORD": "s3cret",
        "CLOSEDLOOP_PII_KEY": "k",
        "CLOSEDLOOP_QUIET": "1",
        "CLOSEDLOOP_DUCKDB_MEMORY_LIMIT": "2GB",
        "CLOSEDLOOP_DBT_THREADS": "3",
    }
    settings = load_settings(tmp_path, tmp_path, environ=env)
    assert settings.postgres_conninfo() == {
        "host": "db",
        "port": 6543,
        "user": "closedloop",
        "dbname": "closedloop",
        "password": "s3cret",
    }
    assert settings.dbt_env()["CLOSEDLOOP_PG_PORT"] == "6543"
    assert settings.dbt_env()["CLOSEDLOOP_DUCKDB_MEMORY_LIMIT"] == "2GB"
    assert settings.dbt_env()["CLOSEDLOOP_DBT_THREADS"] == "3"
    assert settings.quiet and settings.pii_key == "k"
    assert "s3cret" not in repr(settings) and "'k'" not in repr(settings)
    # secrets never reach dbt's vars (run_results.json records them)
    assert "s3cret" not in json.dumps(settings.dbt_vars())


def test_a_setting_reaches_dbt_as_a_var(tmp_path):
    """dbt renders the var the job passes (not dbt_project.yml's default, not the environment)."""
    settings = load_settings(
        tmp_path, tmp_path, environ={"CLOSEDLOOP_MQL_THRESHOLD": "55", "CLOSEDLOOP_BASE_CURRENCY": "EUR"}
    )
    env = {**settings.dbt_env(), "PATH": "/usr/bin:/bin"}
    completed = subprocess.run(
        [
            DBT_EXECUTABLE,
            "run-operation",
            "print_settings",
            "--project-dir",
            str(DBT_PROJECT_DIR),
            "--profiles-dir",
            str(DBT_PROFILES_DIR),
            "--target-path",
            str(tmp_path / "target"),
            *settings.dbt_vars_args(),
        ],
        env=env,
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert "closedloop__mql_threshold=55" in completed.stdout
    assert "closedloop__base_currency=EUR" in completed.stdout
    assert all(f"closedloop__{name}=" in completed.stdout for name in DBT_VARS)


# the credentials dbt-spark gets from dbt_project/profiles.yml, rendered by dbt itself
SPARK_CREDENTIALS = """
import json, os
from argparse import Namespace
from dbt.config.profile import Profile, read_profile
from dbt.config.renderer import ProfileRenderer
from dbt.flags import set_from_args
from dbt_common.context import set_invocation_context
set_from_args(Namespace(), None)
set_invocation_context(os.environ)
raw = read_profile(os.environ["PROFILES_DIR"])
credentials = Profile.from_raw_profiles(raw, "closedloop", ProfileRenderer({}), target_override="spark").credentials
keys = ("host", "port", "auth", "user", "password", "kerberos_service_name", "poll_interval")
print(json.dumps({key: getattr(credentials, key) for key in keys}))
"""


def spark_credentials(settings) -> dict:
    env = {**settings.dbt_env(), "PROFILES_DIR": str(DBT_PROFILES_DIR), "PATH": os.environ["PATH"]}
    done = subprocess.run([sys.executable, "-c", SPARK_CREDENTIALS], env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.splitlines()[-1])


def gate_connect_args(settings) -> dict:
    """The keywords PyHive's connection gets from the gate's URL."""
    return HiveDialect().create_connect_args(make_url(warehouse_url(settings)))[1]


def test_a_clusters_sign_in_reaches_dbt_and_the_gate(tmp_path):
    spark = {"CLOSEDLOOP_DBT_TARGET": "spark", "CLOSEDLOOP_SPARK_PORT": "10001"}
    local = load_settings(tmp_path, tmp_path, environ=spark)
    assert spark_credentials(local) == {
        "host": "127.0.0.1",
        "port": 10001,
        "auth": "NOSASL",
        "user": None,
        "password": None,  # PyHive refuses a password, even an empty one, outside LDAP and CUSTOM
        "kerberos_service_name": None,
        "poll_interval": 1,
    }
    assert warehouse_url(local) == "hive://127.0.0.1:10001/default?auth=NOSASL"

    cluster = {**spark, "CLOSEDLOOP_SPARK_HOST": "thrift.example.com", "CLOSEDLOOP_SPARK_USER": "etl@example.com"}
    ldap_env = {**cluster, "CLOSEDLOOP_SPARK_AUTH": "ldap", "CLOSEDLOOP_SPARK_PASSWORD": "p@ss:w/rd 1"}
    ldap = load_settings(tmp_path, tmp_path, environ=ldap_env)
    signed_in = {"auth": "LDAP", "user": "etl@example.com", "password": "p@ss:w/rd 1"}
    assert signed_in.items() <= spark_credentials(ldap).items()
    assert gate_connect_args(ldap) == {
        "host": "thrift.example.com",
        "port": 10001,
        "database": "default",
        "username": "etl@example.com",
        "password": "p@ss:w/rd 1",
        "auth": "LDAP",
    }
    assert "p@ss" not in repr(ldap)

    kerberos = load_settings(
        tmp_path,
        tmp_path,
        environ={**cluster, "CLOSEDLOOP_SPARK_AUTH": "KERBEROS", "CLOSEDLOOP_SPARK_KERBEROS_SERVICE": "hive"},
    )
    assert {"auth": "KERBEROS", "password": None, "kerberos_service_name": "hive"}.items() <= spark_credentials(
        kerberos
    ).items()
    args = gate_connect_args(kerberos)
    assert (args["auth"], args["kerberos_service_name"], args["password"]) == ("KERBEROS", "hive", None)
