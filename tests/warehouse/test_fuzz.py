"""Random and corrupted CSV bytes never give a traceback: only clear errors or quarantine."""

from __future__ import annotations

import contextlib
import io
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crmlens.cli.app import main

GOOD = (
    "deal_id;created_at;pipeline_id;status;amount\r\n"
    "D1;01.03.2025 14:05;main;won;1 234,50\r\n"
    "D2;2025-03-02;main;open;10\r\n"
).encode("cp1251")


def run_cli(args: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = 0
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            main(args)
        except SystemExit as e:
            code = int(e.code or 0)
    return code, out.getvalue(), err.getvalue()


def check_import(tmp: Path, data: bytes) -> None:
    path = tmp / "deals.csv"
    path.write_bytes(data)
    code, out, err = run_cli(
        ["import", str(path), "-w", str(tmp / "wh.duckdb"), "-f", "json"]
    )
    assert "Traceback" not in out + err
    assert "internal error" not in err, err
    assert code in (0, 1), (code, err)
    if code == 1:
        assert err.startswith("error:") or '"rows"' in out


@given(st.binary(max_size=600))
def test_random_bytes(tmp_path_factory: pytest.TempPathFactory, data: bytes) -> None:
    check_import(tmp_path_factory.mktemp("fuzz"), data)


@given(
    st.lists(
        st.tuples(st.integers(0, len(GOOD) - 1), st.binary(min_size=0, max_size=4)),
        min_size=1,
        max_size=6,
    )
)
def test_corrupted_csv(
    tmp_path_factory: pytest.TempPathFactory, edits: list[tuple[int, bytes]]
) -> None:
    data = bytearray(GOOD)
    for position, replacement in edits:
        data[position : position + len(replacement) or position + 1] = replacement
    check_import(tmp_path_factory.mktemp("fuzz"), bytes(data))


@given(st.text(alphabet=st.sampled_from(list(';,"\r\n01.-абвDwon ')), max_size=200))
def test_csv_like_text(tmp_path_factory: pytest.TempPathFactory, text: str) -> None:
    check_import(tmp_path_factory.mktemp("fuzz"), GOOD[:60] + text.encode("utf-8"))


def test_the_unbroken_file_imports(tmp_path: Path) -> None:
    path = tmp_path / "deals.csv"
    path.write_bytes(GOOD)
    code, out, err = run_cli(
        ["import", str(path), "-w", str(tmp_path / "wh.duckdb"), "-f", "json"]
    )
    assert code == 0, err
    assert '"loaded": 2' in out
