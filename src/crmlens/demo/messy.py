"""A hand-kept, amoCRM-like deals export with planted defects (messy/deals_export.csv).

The file is what importers meet in real life: cp1251, ``;`` as delimiter, CRLF line
ends, Russian headers and statuses, ``dd.mm.yyyy hh:mm`` dates and amounts such as
``1 234 567,50``. Each bad row has exactly one defect, recorded with its spreadsheet
row number (header = row 1).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import numpy as np

from crmlens.demo import entities as ent

HEADERS = (
    "ID сделки",
    "Дата создания",
    "Воронка",
    "Компания",
    "Ответственный",
    "Бюджет",
    "Валюта",
    "Статус",
    "Дата закрытия",
    "Причина отказа",
    "Комментарий",
)
STATUS_RU = ("В работе", "Успешно реализовано", "Закрыто и не реализовано")
COMMENTS = (
    "",
    "",
    "Клиент просил перезвонить после праздников",
    "Нужен счёт с НДС",
    "Доставка до склада заказчика",
    "Сравнивают с предложением конкурента",
    "Повторная закупка, как в прошлом году",
    "Ждём согласования у главного инженера",
    "Тендер на площадке, подали заявку",
)
FILE = "messy/deals_export.csv"
#: Managers who worked through 2025 (those in the export).
ACTIVE = [m.name for m in ent.MANAGERS if m.left_at is None and m.hired_at.year < 2025]


def _money(value: float, nbsp: bool) -> str:
    whole, frac = divmod(round(value * 100), 100)
    text = f"{whole:,}".replace(",", "\u00a0" if nbsp else " ")
    return f"{text},{frac:02d}"


def _when(moment: dt.datetime) -> str:
    return moment.strftime("%d.%m.%Y %H:%M")


def _good_row(rng: np.random.Generator, number: int, companies: list[str]) -> list[str]:
    created = dt.datetime(2025, 1, 9, 9) + dt.timedelta(
        days=int(rng.integers(0, 280)), minutes=int(rng.integers(0, 540))
    )
    status = int(rng.choice(3, p=[0.3, 0.35, 0.35]))
    closed = created + dt.timedelta(days=int(rng.integers(3, 40)), hours=2)
    return [
        f"MX-{number:04d}",
        _when(created),
        "main",
        companies[int(rng.integers(0, len(companies)))],
        ACTIVE[int(rng.integers(0, len(ACTIVE)))],
        _money(
            float(np.round(rng.lognormal(np.log(350_000), 0.9), -2))
            + 0.5 * int(rng.integers(0, 2)),
            bool(rng.random() < 0.5),
        ),
        "RUB",
        STATUS_RU[status],
        _when(closed) if status else "",
        ent.LOST_REASONS_LATE[int(rng.integers(0, 4))] if status == 2 else "",
        COMMENTS[int(rng.integers(0, len(COMMENTS)))],
    ]


def _defects(rows: list[list[str]], rng: np.random.Generator) -> list[dict[str, Any]]:
    """Bad rows, each derived from a fresh good row with one defect."""
    col = HEADERS.index
    plan = [
        ("Бюджет", "not_a_number", "около миллиона"),
        ("Бюджет", "not_a_number", "1,2 млн"),
        ("Дата создания", "impossible_date", "31.02.2024 10:00"),
        ("Дата создания", "impossible_date", "15.13.2025 11:30"),
        ("ID сделки", "missing_required", ""),
        ("Дата создания", "missing_required", ""),
        ("Статус", "bad_enum", "непонятно"),
        ("Статус", "bad_enum", "Думает"),
    ]
    bad = []
    for i, (column, kind, value) in enumerate(plan):
        row = rows[i]
        row[col(column)] = value
        bad.append({"index": i, "column": column, "kind": kind, "value": value})
    del rng
    return bad


def build(
    rng: np.random.Generator, companies: list[str], n_good: int = 84
) -> tuple[list[str], dict[str, Any]]:
    """Lines of the export (without line ends) and its truth record."""
    good = [_good_row(rng, i + 1, companies) for i in range(n_good)]
    spare = [_good_row(rng, 9000 + i, companies) for i in range(8)]
    bad = _defects(spare, rng)
    conflict_a = _good_row(rng, 5001, companies)
    conflict_b = list(conflict_a)
    conflict_b[HEADERS.index("Бюджет")] = _money(123_456.0, False)
    extra = _good_row(rng, 5002, companies)
    extra_line = ";".join([*extra[:-1], "Важно", "срочно", extra[-1]])
    items: list[tuple[str, dict[str, Any] | None]] = [(";".join(r), None) for r in good]
    for b in bad:
        items.append((";".join(spare[b["index"]]), b))
    items.append(
        (
            ";".join(conflict_a),
            {"column": "ID сделки", "kind": "key_conflict", "value": conflict_a[0]},
        )
    )
    items.append(
        (
            ";".join(conflict_b),
            {"column": "ID сделки", "kind": "key_conflict", "value": conflict_b[0]},
        )
    )
    items.append(
        (
            extra_line,
            {
                "column": None,
                "kind": "wrong_field_count",
                "value": f"{len(extra) + 2} fields",
            },
        )
    )
    order = rng.permutation(len(items))
    items = [items[i] for i in order]
    dups = [int(i) for i in rng.choice(n_good, size=2, replace=False)]
    dup_lines = {";".join(good[i]) for i in dups}
    lines, records, dup_rows = [";".join(HEADERS)], [], []
    for line, rec in items:
        lines.append(line)
        if rec is not None:
            records.append(
                {"row": len(lines), **{k: rec[k] for k in ("column", "kind", "value")}}
            )
        if rec is None and line in dup_lines:
            lines.append(line)
            dup_rows.append(len(lines))
    truth = {
        "file": FILE,
        "table": "deals",
        "encoding": "cp1251",
        "delimiter": ";",
        "data_rows": len(lines) - 1,
        "valid_rows": n_good,
        "exact_duplicates": len(dup_rows),
        "duplicate_rows": dup_rows,
        "bad_rows": records,
    }
    return lines, truth


def write(out_dir: Path, lines: list[str]) -> None:
    """Write the export as cp1251 with CRLF line ends."""
    path = Path(out_dir) / FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("cp1251"))
