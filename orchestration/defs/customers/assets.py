"""Probabilistic CLV between the intermediate models and the marts ((f) of docs/metrics.md "Customers, LTV and RFM"):
one asset that fits BG/NBD and Gamma-Gamma on int_customers_summarised and writes intermediate.customer_clv (read by
mart_customer_ltv), customer_clv_years (the projection of LTV (d)) and customer_clv_fit (mart_clv_model)."""

import dagster as dg

from orchestration.defs.resources import ClosedloopSettings
from orchestration.lib.customer_clv import refresh_customer_clv
from orchestration.lib.progress import progress
from orchestration.lib.warehouse import open_warehouse

CUSTOMER_CLV_KEY = dg.AssetKey(["intermediate", "customer_clv"])  # the dbt source's key (translator: [schema, table])
YEARS_KEY = dg.AssetKey(["intermediate", "customer_clv_years"])
FIT_KEY = dg.AssetKey(["intermediate", "customer_clv_fit"])
SUMMARY_KEY = dg.AssetKey(["intermediate", "int_customers_summarised"])


def _spec(key: dg.AssetKey, description: str) -> dg.AssetSpec:
    return dg.AssetSpec(key, deps=[SUMMARY_KEY], group_name="intermediate", kinds={"python"}, description=description)


@dg.multi_asset(
    name="customer_clv",
    specs=[
        _spec(
            CUSTOMER_CLV_KEY,
            "intermediate.customer_clv: per customer, expected purchases, P(alive), expected "
            "order value and CLV over closedloop__clv_horizon_months, from BG/NBD and Gamma-Gamma fitted by maximum "
            "likelihood (orchestration/lib/clv.py). With too few customers to fit, every row says why and the "
            "values are null.",
        ),
        _spec(
            YEARS_KEY,
            "intermediate.customer_clv_years: per customer × customer-year 1..H, the purchases and "
            "revenue the fitted models expect after the data end (the projection of LTV (d)).",
        ),
        _spec(
            FIT_KEY,
            "intermediate.customer_clv_fit: per model × parameter, the night's estimate, log-likelihood, "
            "customers used and fit status (published as mart_clv_model).",
        ),
    ],
)
def customer_clv(context: dg.AssetExecutionContext, settings: ClosedloopSettings):
    cfg = settings.get()
    progress("customers: fitting BG/NBD and Gamma-Gamma")
    with open_warehouse(cfg.dbt_target, cfg.warehouse_path) as warehouse:
        outcome = refresh_customer_clv(warehouse, cfg)
    progress(f"customers: {outcome.describe()}")
    if outcome.status != "fitted":
        context.log.warning(f"customer CLV: {outcome.describe()}")
    params = {f"bgnbd_{k}": round(v, 6) for k, v in outcome.bgnbd.items()}
    params.update({f"gamma_gamma_{k}": round(v, 6) for k, v in outcome.gamma_gamma.items()})
    metadata = {
        "customers": outcome.customers,
        "repeat_customers": outcome.repeat_customers,
        "status": outcome.status,
        "seconds": round(outcome.seconds, 2),
    }
    yield dg.MaterializeResult(asset_key=CUSTOMER_CLV_KEY, metadata={**metadata, **params})
    yield dg.MaterializeResult(asset_key=YEARS_KEY, metadata={"rows": outcome.years.num_rows})
    yield dg.MaterializeResult(asset_key=FIT_KEY, metadata={**metadata, **params})
