"""Findings speak the data's currency: the one most deals are in, RUB when none is given."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from crmlens.insights.currency import CURRENCY, in_data_currency, main_currency
from crmlens.insights.registry import AnalysisResult
from crmlens.insights.rules._money import money

NBSP = "\xa0"


def _wh(open_wh: Any, tmp_path: Path, currencies: list[str | None]) -> Any:
    lines = ["deal_id,created_at,pipeline_id,amount,status,currency"]
    for i, cur in enumerate(currencies):
        lines.append(f"D{i},2024-02-01,P,100,open,{cur or ''}")
    (tmp_path / "deals.csv").write_text("\n".join(lines) + "\n")
    wh = open_wh()
    wh.import_files([tmp_path / "deals.csv"])
    return wh


@in_data_currency
def _analysis(wh: Any, **params: Any) -> AnalysisResult:
    return AnalysisResult("t", params, pa.table({"text": [money(2_500_000, "en")]}))


@pytest.mark.parametrize(
    ("currencies", "expected"),
    [
        (["USD", "USD", "EUR"], "USD"),
        (["usd", None, None], "USD"),
        ([None, None], "RUB"),
        (["EUR", "USD"], "USD"),  # a tie goes to the later code, every time
    ],
)
def test_main_currency(open_wh, tmp_path: Path, currencies, expected: str) -> None:
    assert main_currency(_wh(open_wh, tmp_path, currencies)) == expected


def test_findings_use_the_data_currency_only_inside_the_analysis(
    open_wh, tmp_path: Path
) -> None:
    wh = _wh(open_wh, tmp_path, ["USD"] * 3)
    out = _analysis(wh)
    assert out.rows["text"].to_pylist() == ["$2.5M"]
    assert CURRENCY.get() == "RUB"
    assert money(2_500_000, "ru") == f"2,5{NBSP}млн{NBSP}₽"
