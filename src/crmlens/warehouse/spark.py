"""The local PySpark session behind ``spark://local`` (started once per process)."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from crmlens.errors import WarehouseError

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

_SESSION: Any = None
#: Extra settings, ``key=value`` pairs separated by ``;`` (e.g. ``spark.driver.memory=8g``).
CONF_ENV = "CRMLENS_SPARK_CONF"
DEFAULTS = {
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.shuffle.partitions": "2",
    "spark.default.parallelism": "2",
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.driver.memory": "2g",
    "spark.sql.ansi.enabled": "false",
    "spark.driver.extraJavaOptions": "-Duser.timezone=UTC",
    "spark.executor.extraJavaOptions": "-Duser.timezone=UTC",
}
#: Settings crmlens needs whatever the user adds: dates are read and written in UTC.
REQUIRED_JAVA_OPTIONS = "-Duser.timezone=UTC"


def session_conf(extra: str) -> dict[str, str]:
    """The session settings: the defaults, then `extra` (``k=v;k=v``) over them.

    Java options the user gives are added to the UTC time zone crmlens needs, never
    instead of it.
    """
    conf = dict(DEFAULTS)
    for item in filter(None, (part.strip() for part in extra.split(";"))):
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise WarehouseError(
                f"{CONF_ENV}: {item!r} is not key=value "
                "(pairs are separated by ';', e.g. spark.driver.memory=8g)"
            )
        key, value = key.strip(), value.strip()
        if key.endswith("extraJavaOptions"):
            value = f"{REQUIRED_JAVA_OPTIONS} {value}".strip()
        conf[key] = value
    return conf


def spark_session() -> SparkSession:
    """A local Spark session tuned for one small machine: UTC, 2 shuffle partitions, no UI.

    ``CRMLENS_SPARK_CONF`` adds or overrides settings (see :func:`session_conf`).
    """
    global _SESSION
    if _SESSION is not None:
        return _SESSION
    try:
        from pyspark.sql import SparkSession
    except ModuleNotFoundError as e:
        raise WarehouseError(
            "the Spark warehouse needs the spark extra: pip install 'crmlens[spark]'"
        ) from e
    builder = SparkSession.builder.master("local[2]").appName("crmlens")
    for key, value in session_conf(os.environ.get(CONF_ENV, "")).items():
        builder = builder.config(key, value)
    _SESSION = builder.getOrCreate()
    _SESSION.sparkContext.setLogLevel("ERROR")
    _teach_ibis_bit_or()
    return _SESSION


def _teach_ibis_bit_or() -> None:
    """Compile Ibis' ``bit_or`` aggregate to Spark SQL's ``bit_or`` (Spark >= 3.0).

    Ibis' PySpark compiler has no rule for it although Spark has the function (ibis'
    Databricks compiler, a subclass, maps it the same way); buyer cohorts use it.
    """
    from ibis.backends.sql.compilers.pyspark import PySparkCompiler

    def visit_BitOr(self: Any, op: Any, *, arg: Any, where: Any) -> Any:
        return self.agg.bit_or(arg, where=where)

    PySparkCompiler.visit_BitOr = visit_BitOr  # type: ignore[method-assign]
