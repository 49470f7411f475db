"""CRMLENS_SPARK_CONF: settings over the defaults, the UTC time zone always kept."""

from __future__ import annotations

import pytest

from crmlens.errors import WarehouseError
from crmlens.warehouse.spark import DEFAULTS, session_conf


def test_no_extra_gives_the_defaults() -> None:
    assert session_conf("") == DEFAULTS
    assert session_conf(" ; ") == DEFAULTS


def test_extra_settings_override_and_add() -> None:
    conf = session_conf("spark.driver.memory=8g; spark.sql.codegen.wholeStage = false")
    assert conf["spark.driver.memory"] == "8g"
    assert conf["spark.sql.codegen.wholeStage"] == "false"
    assert conf["spark.sql.shuffle.partitions"] == "2"


def test_java_options_keep_utc() -> None:
    conf = session_conf("spark.driver.extraJavaOptions=-XX:+UseSerialGC")
    assert conf["spark.driver.extraJavaOptions"] == (
        "-Duser.timezone=UTC -XX:+UseSerialGC"
    )
    assert conf["spark.executor.extraJavaOptions"] == "-Duser.timezone=UTC"


def test_value_may_hold_equals_signs() -> None:
    conf = session_conf("spark.driver.extraJavaOptions=-Dx=1 -Dy=2")
    assert conf["spark.driver.extraJavaOptions"].endswith("-Dx=1 -Dy=2")


@pytest.mark.parametrize("bad", ["spark.driver.memory", "=8g", "8g"])
def test_a_pair_without_key_or_value_sign_is_named(bad: str) -> None:
    with pytest.raises(WarehouseError, match=r"CRMLENS_SPARK_CONF.*not key=value"):
        session_conf(bad)
