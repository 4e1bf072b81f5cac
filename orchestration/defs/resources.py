"""Resources shared by the assets: the settings (read from the environment at run time) and dbt."""


import dagster as dg
from dagster_dbt import DbtCliResource, DbtProject

from orchestration.settings import DBT_EXECUTABLE, DBT_PROFILES_DIR, DBT_PROJECT_DIR, Settings, load_settings

dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROFILES_DIR)


class ClosedloopSettings(dg.ConfigurableResource):
    """Reads orchestration.settings at run time, so one process can run against several data dirs."""

    def get(self) -> Settings:
        return load_settings()


def build_resources() -> dict:
    return {
        "settings": ClosedloopSettings(),
        "dbt": DbtCliResource(
            project_dir=dbt_project, profiles_dir=str(DBT_PROFILES_DIR), dbt_executable=DBT_EXECUTABLE
        ),
    }
