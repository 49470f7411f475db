"""Preset ``online_retail``: UCI "Online Retail" invoice lines (xlsx original or parquet).

What it maps
------------
The file has one row per invoice *line* (InvoiceNo, StockCode, Description, Quantity,
InvoiceDate, UnitPrice, CustomerID, Country); the canonical orders table has one row per
order. Staging makes one output row per raw row, so the preset keeps the **first line of
each invoice** (``where``: its ``_row`` is the invoice's smallest) and computes the
invoice's totals with scalar subqueries over the raw table:

- **orders**: order_id = InvoiceNo, account_id = CustomerID, order_date = InvoiceDate
  (the day), amount = Σ Quantity × UnitPrice over the invoice's lines, quantity =
  Σ Quantity. product_id is left empty (an invoice has many products). No custom fields:
  the remaining columns describe single lines, not the invoice.
- **products** (derived): product_id = StockCode, name = Description (StockCode when the
  description is empty); the first line of a code names it.
- **accounts** (derived): account_id = name = CustomerID, region = Country (the first
  line of the customer decides for the 9 customers seen in two countries),
  created_at = the customer's first InvoiceDate in the file.

Judgement calls
---------------
- *Invoices without CustomerID* (3,710 invoices; 135,080 lines of the full file) are
  **quarantined**, not loaded under an invented "unknown" account: orders.account_id is
  required, and a single pseudo-customer holding a quarter of the lines would distort
  every per-customer analysis (RFM, cohorts, CLV). The import report counts them and the
  quarantine keeps their rows. CustomerID is constant within an invoice, so an invoice is
  either fully kept or fully quarantined.
- *Cancellations* (InvoiceNo starting with ``C``, 3,836 invoices) are **kept** as orders
  with their (negative) amount and the ``C`` prefix in order_id, so that summed revenue
  is net revenue as in the published total; filter ``order_id LIKE 'C%'`` out to count
  purchases. The same holds for the ``A`` "Adjust bad debt" invoices, which have no
  customer and are therefore quarantined.
- Resulting counts on the full file: 22,190 orders (distinct invoices with a customer)
  from 4,372 customers; on the xlsx head: the invoices of its 1–2 Dec 2010 lines.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from crmlens.ingest.presets.base import Output, col, has_headers
from crmlens.ingest.sql import ident

if TYPE_CHECKING:
    from crmlens.ingest.readers import RawFile

HEADERS = (
    "InvoiceNo", "StockCode", "Description", "Quantity", "InvoiceDate", "UnitPrice",
    "CustomerID", "Country",
)  # fmt: skip


class OnlineRetail:
    """UCI Online Retail: invoice lines -> orders per invoice, products, customers."""

    name = "online_retail"
    description = (
        "UCI 'Online Retail' invoice lines (InvoiceNo, StockCode, …): one order per "
        "invoice, products and customers derived"
    )

    def score(self, raw: RawFile) -> float:
        """0.95 when the file has the UCI Online Retail headers."""
        return 0.95 if has_headers(raw, *HEADERS) else 0.0

    def outputs(self, raw: RawFile, *, table: str | None) -> list[Output]:
        """Orders, products and accounts of one file (see the module docstring)."""
        if not has_headers(raw, *HEADERS):
            return []
        t = raw.table
        invoice = col("InvoiceNo")
        qty = f"try_cast({ident('Quantity')} AS DOUBLE)"
        price = f"try_cast({ident('UnitPrice')} AS DOUBLE)"
        same_invoice = (
            f"FROM {t} AS _l WHERE _l.{ident('InvoiceNo')} = {t}.{ident('InvoiceNo')}"
        )
        amount = f"CAST((SELECT sum({qty} * {price}) {same_invoice}) AS VARCHAR)"
        quantity = f"CAST((SELECT sum({qty}) {same_invoice}) AS VARCHAR)"
        first_line = f"_row IN (SELECT min(_row) FROM {t} GROUP BY {invoice})"
        customer = col("CustomerID")
        first_seen = (
            f"(SELECT min(_c.{ident('InvoiceDate')}) FROM {t} AS _c "
            f"WHERE _c.{ident('CustomerID')} = {t}.{ident('CustomerID')})"
        )
        return [
            Output(
                "orders",
                {
                    "order_id": invoice,
                    "account_id": customer,
                    "order_date": col("InvoiceDate"),
                    "amount": amount,
                    "quantity": quantity,
                },
                where=first_line,
            ),
            Output(
                "products",
                {
                    "product_id": col("StockCode"),
                    "name": f"coalesce({col('Description')}, {col('StockCode')})",
                },
                where=f"{col('StockCode')} IS NOT NULL",
                derived=True,
            ),
            Output(
                "accounts",
                {
                    "account_id": customer,
                    "name": customer,
                    "region": col("Country"),
                    "created_at": f"CAST({first_seen} AS VARCHAR)",
                },
                where=f"{customer} IS NOT NULL",
                derived=True,
            ),
        ]
