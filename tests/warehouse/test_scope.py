"""Row-level scope: each table of a scoped view holds only the scope's rows (both engines)."""

from __future__ import annotations

from pathlib import Path

import pytest

from crmlens.errors import InputError, WarehouseError
from crmlens.warehouse.scope import Scope, scoped

TABLES = {
    "managers": """manager_id,name,team,region
M1,Анна,T1,North
M2,Борис,T1,North
M3,Вера,T2,South
""",
    "accounts": """account_id,name,owner_id,created_at
A1,Альфа,M1,2024-01-01
A2,Бета,M2,2024-01-01
A3,Гамма,M3,2024-01-01
A4,Дельта,,2024-01-01
""",
    "contacts": """contact_id,account_id,full_name
C1,A1,Иван
C2,A3,Пётр
""",
    "deals": """deal_id,created_at,pipeline_id,account_id,owner_id,amount,status
D1,2024-02-01,P,A1,M1,100,won
D2,2024-02-01,P,A2,M2,200,open
D3,2024-02-01,P,A3,M3,300,lost
D4,2024-02-01,P,A3,,400,open
""",
    "deal_stages": """deal_id,stage,entered_at
D1,s1,2024-02-01
D2,s1,2024-02-01
D3,s1,2024-02-01
""",
    "leads": """lead_id,created_at,owner_id
L1,2024-01-05,M1
L2,2024-01-05,M3
""",
    "activities": """activity_id,type,created_at,manager_id,deal_id
X1,call,2024-02-02,M1,D1
X2,call,2024-02-02,M3,D3
""",
    "call_reviews": """activity_id,item,passed
X1,greeting,true
X2,greeting,false
""",
    "orders": """order_id,account_id,order_date,amount,manager_id
O1,A1,2024-03-01,10,M1
O2,A1,2024-03-02,20,M3
O3,A1,2024-03-03,30,
O4,A3,2024-03-04,40,
""",
    "targets": """period,scope_type,scope_id,metric,value
2024-03,company,,revenue,1000
2024-03,region,North,revenue,600
2024-03,region,South,revenue,400
2024-03,team,T1,revenue,600
2024-03,manager,M1,revenue,300
2024-03,manager,M3,revenue,400
""",
    "products": """product_id,name
P1,Станок
""",
}


@pytest.fixture
def wh(open_wh, tmp_path: Path):
    for name, text in TABLES.items():
        (tmp_path / f"{name}.csv").write_text(text)
    w = open_wh()
    w.import_files([tmp_path / f"{name}.csv" for name in TABLES])
    return w


def _ids(wh, table: str, column: str) -> list[str]:
    return sorted(str(v) for v in wh.table(table)[column].to_pyarrow().to_pylist())


def test_manager_scope(wh) -> None:
    view = scoped(wh, Scope.parse("manager:M1"))
    assert _ids(view, "managers", "manager_id") == ["M1"]
    assert _ids(view, "accounts", "account_id") == ["A1"]
    assert _ids(view, "contacts", "contact_id") == ["C1"]
    assert _ids(view, "deals", "deal_id") == ["D1"]
    assert _ids(view, "deal_stages", "deal_id") == ["D1"]
    assert _ids(view, "leads", "lead_id") == ["L1"]
    assert _ids(view, "activities", "activity_id") == ["X1"]
    assert _ids(view, "call_reviews", "activity_id") == ["X1"]
    # O2 was booked by M3 on M1's client: it is M3's row; O3 has no manager, M1's client.
    assert _ids(view, "orders", "order_id") == ["O1", "O3"]
    assert _ids(view, "targets", "scope_id") == ["M1"]
    assert _ids(view, "products", "product_id") == ["P1"]
    assert view.quarantine.count().execute() == 0


def test_region_scope_takes_its_teams_and_managers(wh) -> None:
    view = scoped(wh, Scope("region", "North"))
    assert _ids(view, "managers", "manager_id") == ["M1", "M2"]
    assert _ids(view, "deals", "deal_id") == ["D1", "D2"]
    assert _ids(view, "targets", "scope_id") == ["M1", "North", "T1"]
    team = scoped(wh, Scope("team", "T2"))
    assert _ids(team, "deals", "deal_id") == ["D3"]
    assert _ids(team, "orders", "order_id") == ["O2", "O4"]


def test_company_scope_is_the_warehouse(wh) -> None:
    assert scoped(wh, Scope.company()) is wh
    assert scoped(wh, None) is wh
    assert wh.deals.count().execute() == 4


def test_view_is_read_only_and_keeps_the_version(wh, tmp_path: Path) -> None:
    view = scoped(wh, Scope("manager", "M1"))
    assert view.version == wh.version
    with pytest.raises(WarehouseError, match="read-only"):
        view.import_files([tmp_path / "deals.csv"])


def test_scoping_a_view_again_keeps_the_rows_in_both(wh) -> None:
    m1 = scoped(wh, Scope("manager", "M1"))
    assert _ids(scoped(m1, Scope("manager", "M3")), "deals", "deal_id") == []
    assert _ids(scoped(m1, Scope("region", "South")), "orders", "order_id") == []
    north = scoped(wh, Scope("region", "North"))
    inside = scoped(north, Scope("manager", "M1"))
    assert _ids(inside, "deals", "deal_id") == ["D1"]
    assert _ids(inside, "orders", "order_id") == ["O1", "O3"]
    assert _ids(inside, "targets", "scope_id") == ["M1"]
    assert inside.version == wh.version


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("boss:1", "unknown scope"),
        ("manager", "cannot read scope"),
        ("manager:", "needs an id"),
    ],
)
def test_bad_scopes_are_clear(text: str, match: str) -> None:
    with pytest.raises(InputError, match=match):
        Scope.parse(text)
