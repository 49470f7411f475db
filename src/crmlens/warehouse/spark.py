"""The local PySpark session behind ``spark://local`` (started once per process)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from crmlens.errors import WarehouseError

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

_SESSION: Any = None


def spark_session() -> SparkSession:
    """A local Spark session tuned for one small machine: UTC, 2 shuffle partitions, no UI."""
    global _SESSION
    if _SESSION is not None:
        return _SESSION
    try:
        from pyspark.sql import SparkSession
    except ModuleNotFoundError as e:
        raise WarehouseError(
            "the Spark warehouse needs the spark extra: pip install 'crmlens[spark]'"
        ) from e
    _SESSION = (
        SparkSession.builder.master("local[2]")
        .appName("crmlens")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.default.parallelism", "2")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.driver.memory", "2g")
        .config("spark.sql.ansi.enabled", "false")
        .config("spark.driver.extraJavaOptions", "-Duser.timezone=UTC")
        .config("spark.executor.extraJavaOptions", "-Duser.timezone=UTC")
        .getOrCreate()
    )
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
