"""Preset ``maven_crm``: Maven Analytics "CRM Sales Opportunities" (a fictitious company).

Files and what they give
------------------------
``sales_pipeline.csv`` (opportunity_id, sales_agent, product, account, deal_stage,
engage_date, close_date, close_value):

- **deals**: deal_id = opportunity_id, pipeline_id = ``'maven'``, owner_id = sales_agent,
  account_id = account, product_id = product, amount = close_value, status = ``won`` /
  ``lost`` for deal_stage Won / Lost and ``open`` for Prospecting and Engaging,
  closed_at = close_date. The raw deal_stage is kept as a custom field (the current
  stage); engage_date is mapped (created_at, and the Engaging stage entry).
- **deal_stages**: ``Engaging`` at engage_date (every row that has one), ``Won`` /
  ``Lost`` at close_date, and ``Prospecting`` for the deals still prospecting, at the
  same date as their created_at (below). Deals that moved on from Prospecting have no
  known Prospecting date, so no Prospecting row is made for them.
- **pipelines** (derived): Prospecting 1, Engaging 2, Won 3 (is_won), Lost 4 (is_lost).
- **accounts**, **managers**, **products** (derived: name as id and as name) — only when
  the matching ``accounts.csv`` / ``sales_teams.csv`` / ``products.csv`` does *not* sit
  next to the pipeline file. When it does, that file is the reference and deriving the
  entities from the pipeline would hide its defects: the pipeline spells the product
  ``GTXPro`` where products.csv has ``GTX Pro``; a derived ``GTXPro`` product would make
  the reference look satisfied and silence the import's spelling warning, whatever the
  order of the files.

``accounts.csv`` -> **accounts**: account_id = name = account, industry = sector,
founded_year = year_established, region = office_location (it holds a country, e.g.
"United States"; there is no city), custom fields revenue, employees, subsidiary_of.

``products.csv`` -> **products**: product_id = name = product, category = series,
price = sales_price.

``sales_teams.csv`` -> **managers**: manager_id = name = sales_agent, team = manager,
region = regional_office.

``data_dictionary.csv`` -> ignored (documentation, no rows).

Judgement calls
---------------
- *created_at of Prospecting deals.* The 500 Prospecting rows have neither engage_date
  nor close_date. Leaving created_at empty would quarantine them, and the earliest date
  of the file (2016-10-20) would make them 14-month-old stale prospects that drag the
  conversion of the first cohorts down. They are the deals not yet engaged when the data
  was exported, so created_at = the **latest date in the file** (max of engage_date and
  close_date, 2017-12-31, i.e. the snapshot date): they fall in the last, naturally
  incomplete cohort and age 0 at the snapshot. All other deals: created_at = engage_date
  (the first date Maven records; Won/Lost/Engaging rows all have it).
- *accounts.created_at* is required but Maven has no account dates: it is set to
  :data:`ACCOUNTS_SINCE` (2016-10-20, the first date of the pipeline, i.e. the start of
  the observed window: every account existed by then). The same constant dates the
  accounts derived from the pipeline.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from crmlens.ingest.presets.base import Output, col, const, has_headers

if TYPE_CHECKING:
    from crmlens.ingest.readers import RawFile

#: created_at of Maven accounts (first date of the pipeline: start of the data window).
ACCOUNTS_SINCE = "2016-10-20"
PIPELINE_ID = "maven"
STAGES = (("Prospecting", 1, False, False), ("Engaging", 2, False, False),
          ("Won", 3, True, False), ("Lost", 4, False, True))  # fmt: skip

PIPELINE_HEADERS = ("opportunity_id", "sales_agent", "product", "account", "deal_stage")
ACCOUNT_HEADERS = ("account", "sector", "year_established", "office_location")
PRODUCT_HEADERS = ("product", "series", "sales_price")
TEAM_HEADERS = ("sales_agent", "manager", "regional_office")
DICTIONARY_HEADERS = ("Table", "Field", "Description")


class MavenCrm:
    """Maven Analytics CRM Sales Opportunities: pipeline, accounts, products, teams."""

    name = "maven_crm"
    description = (
        "Maven Analytics 'CRM Sales Opportunities' (sales_pipeline, accounts, products, "
        "sales_teams; data_dictionary ignored)"
    )

    def score(self, raw: RawFile) -> float:
        """0.95 for any of the five Maven files, judged by their headers."""
        kind = _kind(raw)
        if kind is None:
            return 0.0
        # The data dictionary's headers are generic; only trust them with the file name.
        if kind == "dictionary":
            return 0.9 if raw.path.stem.lower() == "data_dictionary" else 0.0
        return 0.95

    def outputs(self, raw: RawFile, *, table: str | None) -> list[Output]:
        """Outputs of one Maven file (see the module docstring)."""
        kind = _kind(raw)
        if kind == "pipeline":
            return _pipeline(raw)
        if kind == "accounts":
            return [_accounts()]
        if kind == "products":
            return [
                Output(
                    "products",
                    {
                        "product_id": col("product"),
                        "name": col("product"),
                        "category": col("series"),
                        "price": col("sales_price"),
                    },
                    custom=True,
                )
            ]
        if kind == "teams":
            return [
                Output(
                    "managers",
                    {
                        "manager_id": col("sales_agent"),
                        "name": col("sales_agent"),
                        "team": col("manager"),
                        "region": col("regional_office"),
                    },
                    custom=True,
                )
            ]
        return []


def _kind(raw: RawFile) -> str | None:
    if has_headers(raw, *PIPELINE_HEADERS):
        return "pipeline"
    if has_headers(raw, *ACCOUNT_HEADERS):
        return "accounts"
    if has_headers(raw, *PRODUCT_HEADERS):
        return "products"
    if has_headers(raw, *TEAM_HEADERS):
        return "teams"
    if has_headers(raw, *DICTIONARY_HEADERS):
        return "dictionary"
    return None


def _accounts() -> Output:
    return Output(
        "accounts",
        {
            "account_id": col("account"),
            "name": col("account"),
            "industry": col("sector"),
            "founded_year": col("year_established"),
            "region": col("office_location"),
            "created_at": const(ACCOUNTS_SINCE),
        },
        custom=True,
    )


def _pipeline(raw: RawFile) -> list[Output]:
    stage = col("deal_stage")
    engage, close = col("engage_date"), col("close_date")
    # The snapshot date: the latest date anywhere in the file (ISO text sorts as dates).
    snapshot = f"(SELECT max(greatest({engage}, {close})) FROM {raw.table})"
    created = f"coalesce({engage}, {snapshot})"
    status = (
        f"CASE lower({stage}) WHEN 'won' THEN 'won' WHEN 'lost' THEN 'lost' "
        "ELSE 'open' END"
    )
    deal = col("opportunity_id")
    outputs = [
        Output(
            "deals",
            {
                "deal_id": deal,
                "created_at": created,
                "pipeline_id": const(PIPELINE_ID),
                "account_id": col("account"),
                "owner_id": col("sales_agent"),
                "amount": col("close_value"),
                "status": status,
                "closed_at": close,
                "product_id": col("product"),
            },
            custom=True,
        ),
        Output(
            "deal_stages",
            {"deal_id": deal, "stage": const("Prospecting"), "entered_at": created},
            where=f"lower({stage}) = 'prospecting'",
        ),
        Output(
            "deal_stages",
            {"deal_id": deal, "stage": const("Engaging"), "entered_at": engage},
            where=f"{engage} IS NOT NULL",
        ),
        Output(
            "deal_stages",
            {"deal_id": deal, "stage": const("Won"), "entered_at": close},
            where=f"lower({stage}) = 'won'",
        ),
        Output(
            "deal_stages",
            {"deal_id": deal, "stage": const("Lost"), "entered_at": close},
            where=f"lower({stage}) = 'lost'",
        ),
    ]
    for name, position, won, lost in STAGES:
        outputs.append(
            Output(
                "pipelines",
                {
                    "pipeline_id": const(PIPELINE_ID),
                    "stage": const(name),
                    "position": const(str(position)),
                    "is_won": const(str(won).lower()),
                    "is_lost": const(str(lost).lower()),
                },
                where="_row = (SELECT min(_row) FROM " + raw.table + ")",
                derived=True,
            )
        )
    folder = raw.path.parent
    if not (folder / "accounts.csv").exists():
        outputs.append(
            Output(
                "accounts",
                {
                    "account_id": col("account"),
                    "name": col("account"),
                    "created_at": const(ACCOUNTS_SINCE),
                },
                where=f"{col('account')} IS NOT NULL",
                derived=True,
            )
        )
    if not (folder / "sales_teams.csv").exists():
        outputs.append(
            Output(
                "managers",
                {"manager_id": col("sales_agent"), "name": col("sales_agent")},
                where=f"{col('sales_agent')} IS NOT NULL",
                derived=True,
            )
        )
    if not (folder / "products.csv").exists():
        outputs.append(
            Output(
                "products",
                {"product_id": col("product"), "name": col("product")},
                where=f"{col('product')} IS NOT NULL",
                derived=True,
            )
        )
    return outputs
