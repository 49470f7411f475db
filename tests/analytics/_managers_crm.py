"""A tiny hand-made CRM for the seller analytics tests (mix reversal, credit, response)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.backends import open_engine

AS_OF = "2025-06-30"


def _mix_deals() -> tuple[list[str], list[str]]:
    """A: cold 10 (won 3), warm 2 (won 2); B: cold 5 (won 0), warm 20 (won 11)."""
    plan = [
        ("A", "cold", 10, 3),
        ("A", "warm", 2, 2),
        ("B", "cold", 5, 0),
        ("B", "warm", 20, 11),
    ]
    deals, leads = [], []
    i = 0
    for owner, source, n, won in plan:
        for k in range(n):
            i += 1
            status = "won" if k < won else "lost"
            deals.append(
                f"X{i:03d},2025-02-01 10:00:00,main,,L{i:03d},{owner},100,{status},"
                f"2025-03-01 10:00:00,{'' if status == 'won' else 'Дорого'}"
            )
            leads.append(f"L{i:03d},2025-01-20 10:00:00,{source},{owner},,X{i:03d}")
    return deals, leads


def write_crm(out: Path) -> Path:
    """Write the CSVs of the tiny CRM to `out`."""
    out.mkdir(parents=True, exist_ok=True)
    mix_deals, mix_leads = _mix_deals()
    files: dict[str, list[str]] = {
        "managers.csv": [
            "manager_id,name,team,region",
            "A,Анна,T1,R1",
            "B,Борис,T1,R1",
        ],
        "deals.csv": [
            "deal_id,created_at,pipeline_id,account_id,lead_id,owner_id,amount,status,"
            "closed_at,lost_reason",
            *mix_deals,
            "W1,2025-04-01 09:00:00,main,ACC1,,A,1000,won,2025-04-20 10:00:00,",
            "W2,2025-04-02 09:00:00,main,ACC2,,B,600,won,2025-04-21 10:00:00,",
            "W3,2025-04-03 09:00:00,main,ACC3,,A,,lost,2025-04-22 10:00:00,Дорого",
        ],
        "deal_stages.csv": [
            "deal_id,stage,entered_at",
            "W1,s1,2025-04-01 09:00:00",
            "W1,s2,2025-04-05 09:00:00",
        ],
        "pipelines.csv": [
            "pipeline_id,stage,position,is_won,is_lost",
            "main,s1,1,false,false",
            "main,s2,2,false,false",
            "main,won,3,true,false",
            "main,lost,4,false,true",
        ],
        "leads.csv": [
            "lead_id,created_at,source,owner_id,first_response_at,deal_id",
            *mix_leads,
            "R1,2025-05-01 10:00:00,web,A,2025-05-01 10:30:00,",
            "R2,2025-05-01 10:00:00,web,A,,",
            "R3,2025-05-01 10:00:00,web,B,,",
        ],
        "activities.csv": [
            "activity_id,type,created_at,manager_id,deal_id,lead_id,done_at,duration_min",
            "C1,call,2025-04-02 10:00:00,A,W1,,2025-04-02 10:00:00,10",
            "C2,meeting,2025-04-03 10:00:00,B,W1,,2025-04-03 10:00:00,",
            "C3,call,2025-04-06 10:00:00,B,W1,,2025-04-06 10:00:00,30",
            "C4,call,2025-05-01 12:00:00,A,,R2,2025-05-01 12:00:00,2",
            "C5,call,2025-05-01 11:00:00,B,,R2,2025-05-01 11:00:00,2",
            "C6,call,2025-05-01 09:00:00,B,,R3,2025-05-01 09:00:00,2",
            "K1,call,2025-03-01 09:00:00,A,X001,,2025-03-01 09:00:00,3",
            "K2,call,2025-03-01 09:00:00,A,X004,,2025-03-01 09:00:00,3",
            "K3,call,2025-03-01 09:00:00,A,X002,,2025-03-01 09:00:00,3",
            "K4,call,2025-03-01 09:00:00,A,X005,,2025-03-01 09:00:00,3",
            "K5,call,2025-03-01 09:00:00,A,X006,,2025-03-01 09:00:00,3",
        ],
        "call_reviews.csv": [
            "activity_id,item,passed",
            "K1,next_step_agreed,true",
            "K2,next_step_agreed,true",
            "K3,next_step_agreed,false",
            "K4,next_step_agreed,false",
            "K5,next_step_agreed,false",
        ],
    }
    for name, lines in files.items():
        (out / name).write_text("\n".join(lines) + "\n", encoding="utf-8")
    return out


_CACHE: dict[str, Any] = {}


def tiny_wh(engine: str, root: Path) -> Any:
    """The tiny CRM imported into a warehouse of `engine` (built once per engine)."""
    if engine not in _CACHE:
        crm = write_crm(root / "crm")
        wh = open_engine(engine, root / f"wh-{engine}")
        wh.import_files([crm])
        _CACHE[engine] = wh
    return _CACHE[engine]
