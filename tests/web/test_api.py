"""The JSON API: same analyses, parameters and envelope as the CLI; story; OpenAPI."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema

from crmlens.insights.findings import FINDING_SCHEMA


def test_analyses_lists_every_registered_analysis_with_its_params(
    client_as: Any,
) -> None:
    from crmlens.insights.registry import names

    body = client_as("analyst").get("/api/analyses").json()
    listed = {a["name"]: a for a in body["analyses"]}
    assert set(listed) == set(names()) - {
        "dedup"
    }  # dedup writes merges: not on the web
    funnel = {p["name"]: p for p in listed["funnel"]["params"]}
    assert funnel["as_of"]["kind"] == "date"
    assert funnel["velocity"]["kind"] == "bool"
    sources = {p["name"]: p for p in listed["leads_sources"]["params"]}
    assert sources["by"]["choices"] == ["channel", "source", "campaign", "month"]
    # parameters that write files or change the warehouse are not offered
    quality = {p["name"] for p in listed["quality"]["params"]}
    assert not quality & {"export", "out"}
    assert body["filters"] == ["from", "to", "region", "team", "manager", "source"]


def test_the_envelope_equals_the_cli_json(
    client_as: Any, web_wh_path: Path, monkeypatch: Any
) -> None:
    from typer.testing import CliRunner

    from crmlens.cli.app import app as cli

    api = client_as("head").get("/api/analysis/funnel", params={"by": "source"})
    assert api.status_code == 200
    body = api.json()
    assert list(body) == ["analysis", "params", "rows", "findings"]
    as_of = body["params"]["as_of"]
    result = CliRunner().invoke(
        cli,
        [
            "funnel",
            "-w",
            str(web_wh_path),
            "--by",
            "source",
            "--as-of",
            as_of,
            "-f",
            "json",
        ],
    )
    assert result.exit_code == 0, result.output
    cli_body = json.loads(result.stdout)
    assert body["rows"] == cli_body["rows"]
    assert body["findings"] == cli_body["findings"]
    assert body["analysis"] == cli_body["analysis"] == "funnel"
    for finding in body["findings"]:
        jsonschema.validate(finding, FINDING_SCHEMA)


def test_parameters_are_typed_and_checked(client_as: Any) -> None:
    head = client_as("head")
    ok = head.get("/api/analysis/leads_sources", params={"by": "channel"})
    assert ok.status_code == 200
    assert ok.json()["params"]["by"] == "channel"
    assert {"channel"} <= set(ok.json()["rows"][0])
    bad_choice = head.get("/api/analysis/leads_sources", params={"by": "nonsense"})
    assert bad_choice.status_code == 400
    assert "channel" in bad_choice.json()["error"]
    bad_date = head.get("/api/analysis/funnel", params={"as_of": "31.02.2025"})
    assert bad_date.status_code == 400
    assert "as_of" in bad_date.json()["error"]
    # a writing parameter is ignored, not executed
    quality = head.get(
        "/api/analysis/quality", params={"export": "xlsx", "out": "/tmp/x"}
    )
    assert quality.status_code == 200
    assert "exported" not in quality.json()["params"]


def test_the_period_filter_sets_the_analysis_dates(client_as: Any) -> None:
    head = client_as("head")
    body = head.get(
        "/api/analysis/managers_losses",
        params={"from": "2025-01-01", "to": "2025-06-30"},
    ).json()
    assert body["params"]["as_of"] == "2025-06-30"
    assert body["params"]["date_from"] == "2025-01-01"
    bad = head.get(
        "/api/analysis/funnel", params={"from": "2025-06-01", "to": "2025-01-01"}
    )
    assert bad.status_code == 400


def test_filters_change_the_numbers(client_as: Any) -> None:
    head = client_as("head")
    everyone = head.get("/api/analysis/managers_kpis").json()["rows"]
    ural = head.get("/api/analysis/managers_kpis", params={"region": "Урал"}).json()[
        "rows"
    ]
    assert {r["manager_id"] for r in ural} == {"M06", "M07"}
    assert len(everyone) > len(ural)
    site = head.get("/api/drill/leads", params={"source": "Сайт", "limit": 5}).json()
    assert site["total"] > 0
    assert {r["source"] for r in site["rows"]} == {"Сайт"}
    all_leads = head.get("/api/drill/leads", params={"limit": 1}).json()["total"]
    assert site["total"] < all_leads


def test_story(client_as: Any) -> None:
    head = client_as("head").get("/api/story", params={"lang": "en", "top": 3}).json()
    assert head["role"] == "head"
    assert head["scope"] is None
    assert 1 <= len(head["items"]) <= 3
    first = head["items"][0]
    assert first["evidence"]["link"].startswith("/analysis/")
    jsonschema.validate(first["finding"], FINDING_SCHEMA)
    ru = client_as("head").get("/api/story", params={"lang": "ru", "top": 3}).json()
    assert ru["headline"] != head["headline"]
    manager = client_as("manager").get("/api/story").json()
    assert manager["scope"] == "manager:M05"


def test_openapi_schema_documents_the_api(client_as: Any) -> None:
    schema = client_as("analyst").get("/openapi.json").json()
    assert schema["openapi"].startswith("3.")
    for path in (
        "/api/analyses",
        "/api/analysis/{name}",
        "/api/story",
        "/api/drill/{table}",
    ):
        assert path in schema["paths"], path
    envelope = schema["components"]["schemas"]["Envelope"]
    assert set(envelope["required"]) == {"analysis", "params", "rows", "findings"}
    assert "/login" not in schema["paths"]  # pages are not part of the API


def test_drill_down_rows(client_as: Any) -> None:
    head = client_as("head")
    won = head.get(
        "/api/drill/deals", params={"status": "won", "owner_id": "M07", "limit": 20}
    ).json()
    assert won["total"] > 20
    assert len(won["rows"]) == 20
    assert {(r["status"], r["owner_id"]) for r in won["rows"]} == {("won", "M07")}
    stage = head.get(
        "/api/drill/deals", params={"stage": "Переговоры", "pipeline_id": "main"}
    ).json()
    assert stage["total"] > 0
    missing = head.get("/api/drill/managers")
    assert missing.status_code == 404
