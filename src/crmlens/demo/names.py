"""Russian vocabulary of the demo company: people, companies, places, INNs and phones.

Name builders take index arrays (or a generator and a count) and return Arrow string
arrays, so that millions of names cost a few vectorised ``take`` and ``join`` calls.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

REGIONS = ("Москва", "Санкт-Петербург", "Урал", "Сибирь", "Юг")
REGION_WEIGHTS = np.array([0.34, 0.2, 0.17, 0.15, 0.14])
#: Cities of each region with their phone area code and INN region code.
CITIES: dict[str, tuple[tuple[str, str, str], ...]] = {
    "Москва": (
        ("Москва", "495", "77"),
        ("Химки", "498", "50"),
        ("Подольск", "496", "50"),
    ),
    "Санкт-Петербург": (
        ("Санкт-Петербург", "812", "78"),
        ("Великий Новгород", "816", "53"),
    ),
    "Урал": (
        ("Екатеринбург", "343", "66"),
        ("Челябинск", "351", "74"),
        ("Пермь", "342", "59"),
        ("Тюмень", "345", "72"),
    ),
    "Сибирь": (
        ("Новосибирск", "383", "54"),
        ("Красноярск", "391", "24"),
        ("Омск", "381", "55"),
        ("Томск", "382", "70"),
    ),
    "Юг": (
        ("Краснодар", "861", "23"),
        ("Ростов-на-Дону", "863", "61"),
        ("Волгоград", "844", "34"),
        ("Сочи", "862", "23"),
    ),
}
INDUSTRIES = (
    "Машиностроение",
    "Металлургия",
    "Нефтегаз",
    "Энергетика",
    "Пищевая промышленность",
    "Строительство",
    "Химическая промышленность",
    "ЖКХ",
    "Сельское хозяйство",
    "Логистика",
)
INDUSTRY_WEIGHTS = np.array([16, 9, 8, 9, 12, 14, 7, 10, 8, 7], dtype=float)
POSITIONS = (
    "Генеральный директор",
    "Коммерческий директор",
    "Технический директор",
    "Главный инженер",
    "Начальник отдела снабжения",
    "Менеджер по закупкам",
    "Специалист",
)
POSITION_WEIGHTS = np.array([8, 7, 6, 10, 18, 33, 18], dtype=float)
SIZE_SEGMENTS = ("малый", "средний", "крупный")

MALE_FIRST = (
    "Александр", "Дмитрий", "Сергей", "Андрей", "Алексей", "Михаил", "Игорь",
    "Евгений", "Владимир", "Николай", "Павел", "Олег", "Артём", "Максим", "Роман",
    "Денис", "Виктор", "Юрий", "Илья", "Константин", "Руслан", "Тимур", "Антон",
    "Вадим", "Григорий",
)  # fmt: skip
FEMALE_FIRST = (
    "Елена", "Ольга", "Наталья", "Татьяна", "Ирина", "Анна", "Светлана", "Мария",
    "Екатерина", "Юлия", "Марина", "Анастасия", "Галина", "Людмила", "Виктория",
    "Дарья", "Ксения", "Алина", "Вера", "Надежда",
)  # fmt: skip
SURNAMES = (
    "Иванов", "Смирнов", "Кузнецов", "Попов", "Васильев", "Петров", "Соколов",
    "Михайлов", "Новиков", "Фёдоров", "Морозов", "Волков", "Алексеев", "Лебедев",
    "Семёнов", "Егоров", "Павлов", "Козлов", "Степанов", "Николаев", "Орлов",
    "Андреев", "Макаров", "Никитин", "Захаров", "Зайцев", "Соловьёв", "Борисов",
    "Яковлев", "Григорьев", "Романов", "Воробьёв", "Сергеев", "Фролов", "Александров",
    "Дмитриев", "Королёв", "Гусев", "Киселёв", "Ильин", "Максимов", "Поляков",
    "Сорокин", "Виноградов", "Ковалёв", "Белов", "Медведев", "Антонов", "Тарасов",
    "Жуков", "Баранов", "Филиппов", "Комаров", "Давыдов", "Беляев", "Герасимов",
    "Богданов", "Осипов", "Сидоров", "Матвеев", "Титов", "Марков", "Миронов",
    "Крылов", "Куликов", "Карпов", "Власов", "Мельников", "Денисов", "Гаврилов",
)  # fmt: skip
INITIALS = "АБВГДЕИКЛМНОПРСТФЮЯ"

NAME_PREFIXES = (
    "Тех", "Пром", "Строй", "Энерго", "Металл", "Агро", "Сиб", "Урал", "Волга",
    "Нева", "Гидро", "Термо", "Электро", "Авто", "Нефте", "Газ", "Хим", "Лес",
    "Транс", "Спец", "Евро", "Рос", "Мега", "Север", "Юг", "Дон", "Кама", "Инж",
    "Снаб", "Тепло",
)  # fmt: skip
NAME_SUFFIXES = (
    "снаб", "маш", "сервис", "комплект", "ресурс", "торг", "монтаж", "проект",
    "систем", "пром", "строй", "техника", "лайн", "деталь", "мастер", "импорт",
)  # fmt: skip
NAME_WORDS = (
    "Ромашка", "Вектор", "Гранит", "Меридиан", "Атлант", "Импульс", "Профиль",
    "Контур", "Квант", "Стандарт", "Орион", "Сфера", "Феникс", "Восход", "Горизонт",
    "Азимут", "Прогресс", "Заря", "Альянс", "Монолит", "Эталон", "Ресурс", "Магистраль",
    "Технология", "Перспектива", "Надежда", "Рубин", "Титан", "Кристалл", "Сигма",
)  # fmt: skip
NAME_TAILS = (
    "", "", "", "", " Плюс", "-М", " Групп", "-Регион", " Инжиниринг", "-Трейд",
    " Холдинг", "-Центр",
)  # fmt: skip
LEGAL_FORMS = ("ООО", "АО", "ПАО", "ЗАО")
LEGAL_FULL = {
    "ООО": "Общество с ограниченной ответственностью",
    "АО": "Акционерное общество",
    "ПАО": "Публичное акционерное общество",
    "ЗАО": "Закрытое акционерное общество",
    "ИП": "Индивидуальный предприниматель",
}
_TRANSLIT = dict(
    zip(
        "абвгдеёжзийклмнопрстуфхцчшщъыьэюя",
        [
            "a",
            "b",
            "v",
            "g",
            "d",
            "e",
            "e",
            "zh",
            "z",
            "i",
            "y",
            "k",
            "l",
            "m",
            "n",
            "o",
            "p",
            "r",
            "s",
            "t",
            "u",
            "f",
            "h",
            "ts",
            "ch",
            "sh",
            "sch",
            "",
            "y",
            "",
            "e",
            "yu",
            "ya",
        ],
        strict=True,
    )
)


def translit(text: str) -> str:
    """Latin spelling of a Russian word for e-mails and web sites."""
    out = "".join(_TRANSLIT.get(ch, ch) for ch in text.lower())
    return "".join(ch for ch in out if ch.isascii() and (ch.isalnum() or ch == "-"))


def company_stems() -> list[str]:
    """Every company name stem: prefix+suffix compounds and single words."""
    stems = [
        p + s
        for p in NAME_PREFIXES
        for s in NAME_SUFFIXES
        if p.lower() != s and not p.lower().endswith(s)
    ]
    return stems + list(NAME_WORDS)


def _take(values: list[str] | tuple[str, ...], idx: np.ndarray) -> pa.Array:
    return pc.take(pa.array(values, type=pa.string()), pa.array(idx))


def join(*parts: pa.Array | str) -> pa.Array:
    """Element-wise concatenation of Arrow string arrays and literal strings."""
    return pc.binary_join_element_wise(*parts, "")


def person_names(
    rng: np.random.Generator, n: int
) -> tuple[pa.Array, np.ndarray, np.ndarray]:
    """Full names "Имя Фамилия"; returns names, surname index, female flag."""
    female = rng.random(n) < 0.45
    first_m = rng.integers(0, len(MALE_FIRST), n)
    first_f = rng.integers(0, len(FEMALE_FIRST), n)
    first = pc.if_else(
        pa.array(female), _take(FEMALE_FIRST, first_f), _take(MALE_FIRST, first_m)
    )
    sur_idx = rng.integers(0, len(SURNAMES), n)
    surname = _take(SURNAMES, sur_idx)
    surname = pc.if_else(pa.array(female), join(surname, "а"), surname)
    return join(first, " ", surname), sur_idx, female


def company_names(
    rng: np.random.Generator, n: int, sole_trader_share: float = 0.12
) -> tuple[pa.Array, np.ndarray, np.ndarray]:
    """Company names such as ``ООО «Техснаб»`` and ``ИП Сидоров А.В.``.

    Returns
    -------
    tuple
        names, stem index (-1 for sole traders) and legal form code (0..3 = ООО, АО,
        ПАО, ЗАО; 4 = ИП). Names are distinct while the name space allows.
    """
    stems = company_stems()
    space = len(stems) * len(NAME_TAILS) * 2
    code = rng.permutation(space)[:n] if n <= space // 2 else rng.integers(0, space, n)
    stem_idx = code % len(stems)
    tail_idx = (code // len(stems)) % len(NAME_TAILS)
    form = rng.choice(4, size=n, p=[0.8, 0.14, 0.02, 0.04])
    body = join(_take(LEGAL_FORMS, form), " «", _take(stems, stem_idx))
    corp = join(body, _take(NAME_TAILS, tail_idx), "»")
    sole = rng.random(n) < sole_trader_share
    sur = _take(SURNAMES, rng.integers(0, len(SURNAMES), n))
    ini = join(
        _take(list(INITIALS), rng.integers(0, len(INITIALS), n)),
        ".",
        _take(list(INITIALS), rng.integers(0, len(INITIALS), n)),
        ".",
    )
    trader = join("ИП ", sur, " ", ini)
    names = pc.if_else(pa.array(sole), trader, corp)
    return names, np.where(sole, -1, stem_idx), np.where(sole, 4, form)


def _inn_check(digits: np.ndarray, weights: list[int]) -> np.ndarray:
    w = np.array(weights, dtype=np.int64)
    return (digits[:, : len(w)] * w).sum(axis=1) % 11 % 10


def _digits(values: np.ndarray, width: int) -> np.ndarray:
    powers = 10 ** np.arange(width - 1, -1, -1, dtype=np.int64)
    return values[:, None] // powers % 10


def _number(digits: np.ndarray) -> np.ndarray:
    width = digits.shape[1]
    return (digits * 10 ** np.arange(width - 1, -1, -1, dtype=np.int64)).sum(axis=1)


def inns(
    region_codes: np.ndarray, serial: np.ndarray, sole_trader: np.ndarray
) -> pa.Array:
    """Valid INNs: 10 digits with a checksum for companies, 12 for sole traders.

    The first two digits are the region code; ``serial`` must be distinct per row
    (and below 10 million), then the INNs are distinct too.
    """
    region = region_codes.astype(np.int64)
    body = (serial.astype(np.int64) * 7_654_321 + 31_415_927) % 10**8
    d9 = _digits(region * 10**7 + body % 10**7, 9)
    c10 = _inn_check(d9, [2, 4, 10, 3, 5, 9, 4, 6, 8])
    as10 = _number(d9) * 10 + c10
    d10 = _digits(region * 10**8 + body, 10)
    c11 = _inn_check(d10, [7, 2, 4, 10, 3, 5, 9, 4, 6, 8])
    d11 = np.column_stack([d10, c11])
    c12 = _inn_check(d11, [3, 7, 2, 4, 10, 3, 5, 9, 4, 6, 8])
    as12 = _number(d11) * 10 + c12
    s10 = pc.utf8_lpad(pc.cast(pa.array(as10), pa.string()), 10, "0")
    s12 = pc.utf8_lpad(pc.cast(pa.array(as12), pa.string()), 12, "0")
    return pc.if_else(pa.array(sole_trader), s12, s10)


def inn_is_valid(inn: str) -> bool:
    """Whether an INN has the right length and check digits."""
    if not inn.isdigit() or len(inn) not in (10, 12):
        return False
    d = [int(c) for c in inn]

    def check(weights: list[int]) -> int:
        return sum(a * b for a, b in zip(d, weights, strict=False)) % 11 % 10

    if len(d) == 10:
        return check([2, 4, 10, 3, 5, 9, 4, 6, 8]) == d[9]
    return (
        check([7, 2, 4, 10, 3, 5, 9, 4, 6, 8]) == d[10]
        and check([3, 7, 2, 4, 10, 3, 5, 9, 4, 6, 8]) == d[11]
    )


def phones(area: pa.Array, number: np.ndarray) -> pa.Array:
    """Phones formatted ``+7 (495) 123-45-67`` from area codes and 7-digit numbers."""
    s = pc.utf8_lpad(pc.cast(pa.array(number), pa.string()), 7, "0")
    return join(
        "+7 (",
        area,
        ") ",
        pc.utf8_slice_codeunits(s, 0, 3),
        "-",
        pc.utf8_slice_codeunits(s, 3, 5),
        "-",
        pc.utf8_slice_codeunits(s, 5, 7),
    )


def ids(prefix: str, start: int, n: int, width: int) -> pa.Array:
    """Identifiers ``prefix`` + zero-padded numbers ``start..start+n-1``."""
    nums = pc.cast(pa.array(np.arange(start, start + n, dtype=np.int64)), pa.string())
    return join(prefix, pc.utf8_lpad(nums, width, "0"))


def id_width(default: int, n: int) -> int:
    """Digits of an identifier: the default, or more when ``n`` needs them."""
    return max(default, len(str(max(n, 1))))
