"""Asset keys for dbt resources, keyed by schema: sources are the tables Python steps write (raw.<table> by the
extract step, quality.* by the gate, intermediate.identity_* by identity resolution); models are keyed by their
schema (staging/intermediate/marts), so lineage reads landing → raw → erasure applied → staging → marts →
serving."""

from collections.abc import Mapping
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings

from orchestration.defs.privacy.assets import ERASURE_APPLIED

# Tables a view reads when it is queried, not when it is built: a view filtered by the gate's quarantine
# (int_identity__edges) is built with staging, before the gate, and still sees the newest quarantine when identity
# resolution reads it after the gate. Without the dependency the view needs no second dbt invocation after the gate.
READ_WHEN_QUERIED = {dg.AssetKey(["quality", "quarantined_keys"])}


class ClosedloopTranslator(DagsterDbtTranslator):
    def __init__(self):
        super().__init__(settings=DagsterDbtTranslatorSettings(enable_asset_checks=True))

    def get_asset_spec(self, manifest: Mapping[str, Any], unique_id: str, project) -> dg.AssetSpec:
        spec = super().get_asset_spec(manifest, unique_id, project)
        props = self.get_resource_props(manifest, unique_id)
        if any(dep.asset_key.path[0] == "raw" for dep in spec.deps):
            # raw is read once the night's erasure requests are applied (orchestration/defs/privacy/assets.py)
            spec = spec.replace_attributes(deps=[*spec.deps, dg.AssetDep(ERASURE_APPLIED)])
        if props["resource_type"] == "model" and props.get("config", {}).get("materialized") == "view":
            deps = [dep for dep in spec.deps if dep.asset_key not in READ_WHEN_QUERIED]
            if len(deps) < len(spec.deps):
                spec = spec.replace_attributes(deps=deps)
        return spec

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> dg.AssetKey:
        kind = dbt_resource_props["resource_type"]
        if kind == "source":
            return dg.AssetKey([dbt_resource_props["schema"], dbt_resource_props["name"]])
        schema = dbt_resource_props.get("config", {}).get("schema") or dbt_resource_props.get("schema")
        return dg.AssetKey([schema or kind, dbt_resource_props["name"]])

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        kind = dbt_resource_props["resource_type"]
        if kind == "seed":
            return "staging"
        return dbt_resource_props.get("config", {}).get("schema") or super().get_group_name(dbt_resource_props)
