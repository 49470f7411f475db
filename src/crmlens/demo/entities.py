"""Small reference tables of the demo company: managers, pipelines, products, campaigns.

Also the sales sources and the parameters that tie them to the planted patterns (which
manager gets which segment, how well each source converts).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from crmlens.demo import clock

#: Lead sources, their channel and whether they are cold (outbound) sources.
SOURCES = (
    "Рекомендация партнёра",
    "Сайт",
    "Выставка",
    "Входящий звонок",
    "Контекстная реклама",
    "Email-рассылка",
    "Холодный обзвон",
    "Купленная база",
)
SOURCE_CHANNEL = (
    "mixed",
    "inbound",
    "mixed",
    "inbound",
    "inbound",
    "outbound",
    "outbound",
    "outbound",
)
COLD = np.array([False, False, False, False, False, False, True, True])
NEW_SOURCE_WEIGHTS = np.array([0.06, 0.19, 0.06, 0.1, 0.13, 0.08, 0.22, 0.16])
RETURNING_SOURCE_WEIGHTS = np.array([0.1, 0.25, 0.05, 0.35, 0.1, 0.15, 0.0, 0.0])
#: Planted effect of each source on the lead -> deal log-odds (pattern "sources").
SOURCE_LEAD_EFFECT = np.array([1.45, 0.25, 0.35, 0.3, 0.0, -0.25, -0.55, -1.55])
#: Base effect of each source on a deal's win rate (always: cold sources win less).
SOURCE_WIN_FACTOR = np.array([1.15, 1.0, 1.0, 1.05, 0.95, 0.9, 0.72, 0.68])
BEST_SOURCE = 0
WORST_SOURCE = 7


@dataclass(frozen=True)
class ManagerSpec:
    """One sales manager of the demo company."""

    manager_id: str
    name: str
    region: str
    team: str
    role: str
    hired_at: dt.date
    left_at: dt.date | None = None
    skill: float = 1.0


MANAGERS = (
    ManagerSpec("M01", "Альберт Ким", "Москва", "Москва-1", "Руководитель группы",
                dt.date(2019, 3, 11), skill=1.08),
    ManagerSpec("M02", "Ольга Смирнова", "Москва", "Москва-1", "Старший менеджер",
                dt.date(2020, 9, 1), skill=0.97),
    ManagerSpec("M03", "Дмитрий Волков", "Санкт-Петербург", "Северо-Запад",
                "Руководитель группы", dt.date(2018, 6, 4), skill=1.04),
    ManagerSpec("M04", "Екатерина Орлова", "Санкт-Петербург", "Северо-Запад",
                "Менеджер по продажам", dt.date(2021, 2, 15), dt.date(2025, 6, 30)),
    ManagerSpec("M05", "Игорь Белов", "Москва", "Москва-2", "Менеджер по продажам",
                dt.date(2022, 4, 18)),
    ManagerSpec("M06", "Наталья Кузнецова", "Урал", "Урал", "Ведущий менеджер",
                dt.date(2017, 11, 20), skill=1.02),
    ManagerSpec("M07", "Сергей Морозов", "Урал", "Урал", "Старший менеджер",
                dt.date(2016, 5, 10)),
    ManagerSpec("M08", "Анна Лебедева", "Сибирь", "Сибирь", "Руководитель группы",
                dt.date(2019, 8, 26), skill=1.0),
    ManagerSpec("M09", "Павел Титов", "Сибирь", "Сибирь", "Менеджер по продажам",
                dt.date(2021, 10, 4), skill=0.88),
    ManagerSpec("M10", "Марина Соколова", "Юг", "Юг", "Старший менеджер",
                dt.date(2023, 9, 4), skill=1.0),
    ManagerSpec("M11", "Руслан Гарипов", "Юг", "Юг", "Менеджер по продажам",
                dt.date(2024, 3, 11), skill=0.95),
    ManagerSpec("M12", "Виктория Павлова", "Санкт-Петербург", "Северо-Запад",
                "Менеджер по продажам", dt.date(2025, 2, 3), skill=0.98),
)  # fmt: skip
MANAGER_IDS = tuple(m.manager_id for m in MANAGERS)
COLD_STRONG, HELPER, WARM_WEAK, CARELESS = 4, 5, 6, 8  # indexes of M05, M06, M07, M09
#: Win factor of the manager-mix pattern within each segment.
COLD_STRONG_FACTOR = 1.45
WARM_WEAK_FACTOR = 0.7
#: Weight of each manager for segments (new & cold, new & warm, returning).
MIX_WEIGHTS = {COLD_STRONG: (4.0, 0.25, 0.08), WARM_WEAK: (0.08, 0.15, 3.5)}
REGION_AFFINITY = 4.0

MAIN_STAGES = (
    "Новая заявка",
    "Квалификация",
    "Встреча",
    "Коммерческое предложение",
    "Переговоры",
    "Договор",
)
MAIN_WON = "Успешно"
MAIN_LOST = "Закрыто и не реализовано"
#: Base conversion of each main transition (1->2, ..., 6->won): about 0.23 win rate.
MAIN_P = np.array([0.86, 0.78, 0.80, 0.62, 0.82, 0.86])
MAIN_DAYS = np.array([1.5, 4.0, 7.0, 6.0, 8.0, 5.0])
DROP_STAGE = 3  # index of "Коммерческое предложение": transition 4 -> 5
DROP_AFTER = 0.36
DROP_FROM = dt.date(2025, 5, 1)
SERVICE_STAGES = ("Заявка на сервис", "Диагностика", "Счёт выставлен")
SERVICE_WON = "Выполнено"
SERVICE_LOST = "Отказ"
SERVICE_P = np.array([0.88, 0.8, 0.85])
SERVICE_DAYS = np.array([1.0, 3.0, 4.0])

LOST_REASONS_EARLY = ("Не дозвонились", "Нет бюджета", "Нет потребности")
LOST_REASONS_LATE = ("Дорого", "Выбрали конкурента", "Отложили закупку", "Нет бюджета")
LEAD_LOST_REASONS = (
    "Нет потребности",
    "Не дозвонились",
    "Нет бюджета",
    "Спам/ошибочная заявка",
    "Выбрали конкурента",
)
NEED_TYPES = ("Поставка оборудования", "Запчасти", "Сервис", "Проект под ключ")

PRODUCT_LINES = (
    ("Насосное оборудование", ("Насос центробежный", "Насос дренажный",
                               "Насос дозировочный", "Насосная станция"), 180_000),
    ("Компрессоры", ("Компрессор винтовой", "Компрессор поршневой",
                     "Осушитель воздуха"), 420_000),
    ("Электродвигатели", ("Электродвигатель АИР", "Мотор-редуктор",
                          "Частотный преобразователь"), 95_000),
    ("Запорная арматура", ("Задвижка клиновая", "Кран шаровой", "Затвор дисковый",
                           "Клапан обратный"), 24_000),
    ("КИПиА", ("Датчик давления", "Расходомер", "Манометр", "Контроллер"), 38_000),
    ("Подшипники и комплектующие", ("Подшипник", "Уплотнение", "Муфта"), 6_500),
    ("Сервисные работы", ("Пусконаладка", "Техническое обслуживание",
                          "Ремонт"), 75_000),
)  # fmt: skip


@dataclass(frozen=True)
class CampaignSpec:
    """One marketing campaign: where its leads come from, when, how many, how good."""

    campaign_id: str
    tag: str
    name: str
    goal: str
    source: int
    started: dt.date
    ended: dt.date
    leads: int
    quality: float


CAMPAIGNS = (
    CampaignSpec("C01", "ctx_spring_2023", "Контекст: насосы весна 2023",
                 "Заявки на насосное оборудование", 4, dt.date(2023, 3, 1),
                 dt.date(2023, 5, 31), 240, 0.1),
    CampaignSpec("C02", "expo_metal_2023", "Выставка «Металлообработка-2023»",
                 "Контакты с производствами", 2, dt.date(2023, 5, 22),
                 dt.date(2023, 6, 30), 170, 0.0),
    CampaignSpec("C03", "partner_2024", "Партнёрская программа 2024",
                 "Рекомендации от партнёров-монтажников", 0, dt.date(2024, 2, 1),
                 dt.date(2024, 11, 30), 430, 1.1),
    CampaignSpec("C04", "email_service_2024", "Рассылка: сервисные контракты",
                 "Продажа сервиса текущей базе", 5, dt.date(2024, 4, 1),
                 dt.date(2024, 6, 30), 190, -0.1),
    CampaignSpec("C05", "ctx_autumn_2024", "Контекст: компрессоры осень 2024",
                 "Заявки на компрессоры", 4, dt.date(2024, 9, 2),
                 dt.date(2024, 11, 29), 260, 0.2),
    CampaignSpec("C06", "expo_innoprom_2024", "Выставка «Иннопром-2024»",
                 "Крупные промышленные клиенты", 2, dt.date(2024, 7, 8),
                 dt.date(2024, 8, 16), 160, 0.15),
    CampaignSpec("C07", "target_social_2025", "Таргетированная реклама в соцсетях",
                 "Охват малого бизнеса", 4, dt.date(2025, 2, 3),
                 dt.date(2025, 7, 31), 320, -1.7),
    CampaignSpec("C08", "webinar_energy_2025", "Вебинар: энергоэффективные насосы",
                 "Заявки от главных инженеров", 1, dt.date(2025, 8, 18),
                 dt.date(2025, 11, 28), 200, 0.3),
)  # fmt: skip
BEST_CAMPAIGN = 2
WORST_CAMPAIGN = 6
CAMPAIGN_CHANNEL = {0: "Партнёры", 1: "Вебинар", 2: "Выставка", 4: "Реклама",
                    5: "Email"}  # fmt: skip


def manager_active(first_day: int, last_day: int) -> np.ndarray:
    """Boolean matrix (day, manager): whether each manager works on each day."""
    days = np.arange(first_day, last_day)
    out = np.zeros((len(days), len(MANAGERS)), dtype=bool)
    for j, m in enumerate(MANAGERS):
        end = clock.day_of(m.left_at) if m.left_at else last_day
        out[:, j] = (days >= clock.day_of(m.hired_at)) & (days < end)
    return out


def mix_matrix(with_mix: bool) -> np.ndarray:
    """Assignment weights (segment, manager): new & cold, new & warm, returning."""
    w = np.ones((3, len(MANAGERS)))
    if with_mix:
        for j, row in MIX_WEIGHTS.items():
            w[:, j] = row
    return w


def manager_factor(with_mix: bool, with_careless: bool) -> np.ndarray:
    """Win factor of each manager within a segment."""
    f = np.array([m.skill for m in MANAGERS])
    if with_mix:
        f[COLD_STRONG] = COLD_STRONG_FACTOR
        f[WARM_WEAK] = WARM_WEAK_FACTOR
    if not with_careless:
        f[CARELESS] = 1.0
    return f


def successor() -> np.ndarray:
    """Who takes over each manager's clients: themselves, or for those who left the
    latest-hired colleague of the same region who still works."""
    out = np.arange(len(MANAGERS))
    for j, m in enumerate(MANAGERS):
        if m.left_at is None:
            continue
        same = [
            k
            for k, o in enumerate(MANAGERS)
            if o.region == m.region and o.left_at is None
        ]
        out[j] = max(same, key=lambda k: MANAGERS[k].hired_at)
    return out


def left_ts() -> np.ndarray:
    """Moment each manager left (far future for those still working)."""
    never = np.iinfo(np.int64).max
    return np.array(
        [clock.ts_of(m.left_at) if m.left_at else never for m in MANAGERS],
        dtype=np.int64,
    )


def region_index(region: str) -> int:
    """Index of a region in `names.REGIONS`."""
    from crmlens.demo.names import REGIONS

    return REGIONS.index(region)


def manager_regions() -> np.ndarray:
    """Region index of each manager."""
    return np.array([region_index(m.region) for m in MANAGERS])
