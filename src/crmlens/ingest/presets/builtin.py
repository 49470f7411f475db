"""The built-in presets besides the generic one (CRM exports and public datasets)."""

from __future__ import annotations

from crmlens.ingest.presets.amocrm import AmoCrm
from crmlens.ingest.presets.base import Preset
from crmlens.ingest.presets.bitrix24 import Bitrix24
from crmlens.ingest.presets.hubspot import HubSpot
from crmlens.ingest.presets.maven_crm import MavenCrm
from crmlens.ingest.presets.olist_funnel import OlistFunnel
from crmlens.ingest.presets.online_retail import OnlineRetail
from crmlens.ingest.presets.salesforce import Salesforce
from crmlens.ingest.presets.x_education import XEducation

PRESETS: list[Preset] = [
    MavenCrm(),
    OlistFunnel(),
    XEducation(),
    OnlineRetail(),
    AmoCrm(),
    Bitrix24(),
    HubSpot(),
    Salesforce(),
]
