"""Client companies of the demo CRM: attributes, planted duplicates, and their contacts.

Accounts live as a column store (``dict`` of numpy arrays, one row per account, in the
order they were made); identifiers are given at write time by creation time.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from crmlens.demo import clock, names
from crmlens.demo.entities import MANAGERS, successor

Cols = dict[str, np.ndarray]
#: Flattened cities: (region index, city, phone area code, INN region code).
CITY_LIST = [
    (names.REGIONS.index(region), city, area, code)
    for region, cities in names.CITIES.items()
    for city, area, code in cities
]
CITY_REGION = np.array([c[0] for c in CITY_LIST])
INDUSTRY_LEAD_EFFECT = np.array(
    [0.3, 0.1, 0.45, 0.2, 0.0, -0.2, 0.1, -0.4, -0.35, -0.1]
)


def concat(parts: list[Cols]) -> Cols:
    """Row-wise concatenation of column stores with the same columns."""
    return {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}


def take(cols: Cols, idx: np.ndarray) -> Cols:
    """Rows ``idx`` of a column store."""
    return {k: v[idx] for k, v in cols.items()}


def new_accounts(
    rng: np.random.Generator, created: np.ndarray, size_median: float, legacy: bool
) -> Cols:
    """Attributes of ``len(created)`` new client companies."""
    n = len(created)
    region = rng.choice(len(names.REGIONS), size=n, p=names.REGION_WEIGHTS)
    city = np.empty(n, dtype=np.int64)
    for r in range(len(names.REGIONS)):
        choices = np.flatnonzero(r == CITY_REGION)
        m = region == r
        p = np.linspace(2.0, 1.0, len(choices)) ** 2
        city[m] = rng.choice(choices, size=int(m.sum()), p=p / p.sum())
    size = np.maximum(1, rng.lognormal(np.log(size_median), 1.25, n)).astype(np.int64)
    year = created.astype("datetime64[s]").astype("datetime64[Y]").astype(np.int64)
    founded = 1970 + year - np.minimum(rng.geometric(0.08, n), 30)
    return {
        "created": created.astype(np.int64),
        "region": region,
        "city": city,
        "industry": rng.choice(
            len(names.INDUSTRIES),
            size=n,
            p=names.INDUSTRY_WEIGHTS / names.INDUSTRY_WEIGHTS.sum(),
        ),
        "size": size,
        "founded": founded,
        "position": rng.choice(
            len(names.POSITIONS),
            size=n,
            p=names.POSITION_WEIGHTS / names.POSITION_WEIGHTS.sum(),
        ),
        "source": np.full(n, -1, dtype=np.int64),
        "owner": np.full(n, -1, dtype=np.int64),
        "legacy": np.full(n, legacy),
        "since": np.full(n, -1, dtype=np.int64),
        "gap": np.zeros(n),
        "churn": np.full(n, -1, dtype=np.int64),
        "peak": np.zeros(n, dtype=np.int64),
        "dup_of": np.full(n, -1, dtype=np.int64),
    }


def size_segment(size: np.ndarray) -> np.ndarray:
    """0 small (< 50 employees), 1 medium (< 250), 2 large."""
    return (size >= 50).astype(np.int64) + (size >= 250)


def account_table(
    rng: np.random.Generator, acc: Cols, ids: pa.Array, manager_ids: pa.Array
) -> dict[str, pa.Array]:
    """The ``accounts`` columns (duplicates get variant names, phones and INNs)."""
    n = len(acc["created"])
    base_names, stem, form = names.company_names(rng, n)
    sole = form == 4
    city_name = pa.array([c[1] for c in CITY_LIST])
    area = pc.take(pa.array([c[2] for c in CITY_LIST]), pa.array(acc["city"]))
    inn_code = np.array([int(c[3]) for c in CITY_LIST])[acc["city"]]
    number = rng.integers(2_000_000, 9_999_999, n)
    phone = names.phones(area, number)
    inn = names.inns(inn_code, np.arange(n), sole)
    name = base_names
    dup = np.flatnonzero(acc["dup_of"] >= 0)
    keep_inn = rng.random(n) < 0.93
    if len(dup):
        name, phone, inn = _duplicate_fields(rng, acc, dup, name, phone, inn)
        keep_inn[dup] = True
        keep_inn[acc["dup_of"][dup]] = True
    inn = pc.if_else(pa.array(keep_inn), inn, None)
    stems = names.company_stems()
    site_words = pa.array([names.translit(s) for s in stems])
    site = names.join("www.", pc.take(site_words, pa.array(np.maximum(stem, 0))), ".ru")
    has_site = (~sole) & (rng.random(n) < 0.7)
    site = pc.if_else(pa.array(has_site), site, None)
    email = pc.if_else(
        pa.array((~sole) & (rng.random(n) < 0.8)),
        names.join("info@", pc.utf8_slice_codeunits(site, 4, 200)),
        None,
    )
    email = pc.if_else(pa.array(has_site), email, None)
    return {
        "account_id": ids,
        "name": name,
        "inn": inn,
        "industry": pc.take(pa.array(names.INDUSTRIES), pa.array(acc["industry"])),
        "size_segment": pc.take(
            pa.array(names.SIZE_SEGMENTS), pa.array(size_segment(acc["size"]))
        ),
        "city": pc.take(city_name, pa.array(acc["city"])),
        "region": pc.take(pa.array(names.REGIONS), pa.array(acc["region"])),
        "website": site,
        "phone": phone,
        "email": email,
        "source": _source_names(acc["source"]),
        "owner_id": pc.take(manager_ids, pa.array(successor()[acc["owner"]])),
        "created_at": pa.array(acc["created"], type=pa.timestamp("s")),
        "founded_year": pa.array(acc["founded"]),
        "status": pc.take(
            pa.array(["Потенциальный", "Клиент"]), pa.array((acc["since"] >= 0) * 1)
        ),
    }


def _source_names(source: np.ndarray) -> pa.Array:
    from crmlens.demo.entities import SOURCES

    arr = pc.take(pa.array(SOURCES), pa.array(np.maximum(source, 0)))
    return pc.if_else(pa.array(source >= 0), arr, None)


def _duplicate_fields(
    rng: np.random.Generator,
    acc: Cols,
    dup: np.ndarray,
    name: pa.Array,
    phone: pa.Array,
    inn: pa.Array,
) -> tuple[pa.Array, pa.Array, pa.Array]:
    """Names, phones and INNs of planted duplicates, derived from their originals."""
    orig = pa.array(acc["dup_of"][dup])
    names_py = [name_variant(rng, v) for v in pc.take(name, orig).to_pylist()]
    phones_py = [phone_variant(rng, v) for v in pc.take(phone, orig).to_pylist()]
    same_inn = pa.array(rng.random(len(dup)) < 0.5)
    inns = pc.if_else(same_inn, pc.take(inn, orig), None)
    mask = np.zeros(len(name), dtype=bool)
    mask[dup] = True
    m = pa.array(mask)
    return (
        pc.replace_with_mask(name, m, pa.array(names_py, pa.string())),
        pc.replace_with_mask(phone, m, pa.array(phones_py, pa.string())),
        pc.replace_with_mask(inn, m, inns),
    )


def name_variant(rng: np.random.Generator, name: str) -> str:
    """A variant spelling of a company name: legal form, quotes, case or one typo."""
    for _ in range(5):
        variant = _variant(rng, name)
        if variant != name:
            return variant
    return name + "."


def _variant(rng: np.random.Generator, name: str) -> str:
    kinds = rng.permutation(["form", "quotes", "case", "typo"])[: rng.integers(1, 3)]
    form, _, rest = name.partition(" ")
    for kind in kinds:
        if kind == "form" and form == "ООО" and rng.random() < 0.3:
            form = "OOO"
        elif kind == "form":
            form = names.LEGAL_FULL.get(form, form)
        elif kind == "quotes":
            rest = _requote(rest, int(rng.integers(0, 2)))
        elif kind == "case":
            rest = rest.upper() if rng.random() < 0.7 else rest.lower()
        else:
            rest = _typo(rng, rest)
    return f"{form} {rest}"


def _requote(text: str, style: int) -> str:
    if "«" not in text:
        return text
    inner = text.replace("«", "").replace("»", "")
    return f'"{inner}"' if style == 0 else inner


def _typo(rng: np.random.Generator, text: str) -> str:
    letters = [i for i, ch in enumerate(text) if ch.isalpha()]
    if len(letters) < 4:
        return text
    i = letters[int(rng.integers(1, len(letters) - 1))]
    op = int(rng.integers(0, 3))
    if op == 0:
        return text[:i] + text[i + 1 :]
    if op == 1:
        return text[:i] + text[i] + text[i:]
    j = i + 1 if i + 1 < len(text) and text[i + 1].isalpha() else i - 1
    a, b = sorted((i, j))
    return text[:a] + text[b] + text[a] + text[b + 1 :]


def phone_variant(rng: np.random.Generator, phone: str) -> str:
    """The same phone written another way: ``84951234567``, ``+74951234567``..."""
    digits = "".join(ch for ch in phone if ch.isdigit())[1:]
    style = int(rng.integers(0, 3))
    if style == 0:
        return "8" + digits
    if style == 1:
        return "+7" + digits
    return f"8 ({digits[:3]}) {digits[3:6]} {digits[6:8]} {digits[8:]}"


def plant_duplicates(
    rng: np.random.Generator, acc: Cols, candidates: np.ndarray, share: float
) -> Cols:
    """Append duplicate records of a ``share`` of accounts chosen among candidates."""
    n_dup = round(share * len(acc["created"]))
    n_dup = min(n_dup, len(candidates))
    orig = np.sort(rng.choice(candidates, size=n_dup, replace=False))
    created = acc["created"][orig] + rng.integers(5, 400, n_dup) * clock.DAY
    created = np.minimum(created, clock.CUTOFF - 2 * clock.DAY)
    created = np.maximum(created, acc["created"][orig] + clock.HOUR)
    dup = take(acc, orig)
    created = clock.snap_to_work(created, rng)
    dup["created"] = np.where(
        created < clock.CUTOFF, created, acc["created"][orig] + 600
    )
    dup["dup_of"] = orig
    dup["since"] = np.full(n_dup, -1, dtype=np.int64)
    dup["churn"] = np.full(n_dup, -1, dtype=np.int64)
    dup["peak"] = np.zeros(n_dup, dtype=np.int64)
    dup["legacy"] = np.zeros(n_dup, dtype=bool)
    return concat([acc, dup])


def contact_table(
    rng: np.random.Generator,
    acc: Cols,
    acc_ids: pa.Array,
    width: int,
) -> tuple[dict[str, pa.Array], np.ndarray]:
    """Contacts: one main contact per original account, a second one at clients.

    Returns the columns and, per account, the row of its main contact (-1 for
    duplicates, which have none).
    """
    real = np.flatnonzero(acc["dup_of"] < 0)
    second = real[(acc["since"][real] >= 0) & (rng.random(len(real)) < 0.6)]
    owner = np.concatenate([real, second])
    created = np.concatenate(
        [
            acc["created"][real],
            clock.snap_to_work(
                np.maximum(acc["created"][second], acc["since"][second])
                + rng.integers(1, 200, len(second)) * clock.DAY,
                rng,
            ),
        ]
    )
    created = np.minimum(created, clock.CUTOFF - clock.DAY)
    order = np.lexsort((np.arange(len(owner)), created))
    owner, created = owner[order], created[order]
    n = len(owner)
    position = acc["position"][owner].copy()
    is_main = order < len(real)
    position[~is_main] = rng.integers(2, len(names.POSITIONS), int((~is_main).sum()))
    full, sur, _female = names.person_names(rng, n)
    mobile = names.phones(
        pc.cast(pa.array(rng.integers(900, 999, n)), pa.string()),
        rng.integers(0, 9_999_999, n),
    )
    sur_lat = pa.array([names.translit(s) for s in names.SURNAMES])
    domain = pc.take(
        pa.array(["mail.ru", "yandex.ru", "gmail.com", "bk.ru"]),
        pa.array(rng.integers(0, 4, n)),
    )
    email = names.join(pc.take(sur_lat, pa.array(sur)), "@", domain)
    main_row = np.full(len(acc["created"]), -1, dtype=np.int64)
    main_row[owner[is_main]] = np.flatnonzero(is_main)
    cols = {
        "contact_id": names.ids("P", 1, n, width),
        "account_id": pc.take(acc_ids, pa.array(owner)),
        "full_name": full,
        "position": pc.take(pa.array(names.POSITIONS), pa.array(position)),
        "phone": pc.if_else(pa.array(rng.random(n) < 0.85), mobile, None),
        "email": pc.if_else(pa.array(rng.random(n) < 0.7), email, None),
        "created_at": pa.array(created, type=pa.timestamp("s")),
        "still_employed": pa.array(rng.random(n) < 0.92),
    }
    return cols, main_row


def owner_names() -> list[str]:
    """Names of the managers in manager order."""
    return [m.name for m in MANAGERS]
