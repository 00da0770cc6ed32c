"""Athena partition projection: configuration, validation and constraint-driven enumeration.

Tables are the ones from the Athena user guide (CloudTrail, VPC flow logs, the injected
device_id example) with their TBLPROPERTIES as written there.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
import sqlglot

from lakebox.catalog.constraints import ColumnConstraint
from lakebox.catalog.model import Column, Table
from lakebox.catalog.projection import (
    ProjectedPartition,
    ProjectionConfig,
)
from lakebox.errors import InvalidRequestError
from lakebox.sql.constraints import extract_constraints

NOW = datetime(2026, 11, 22, 6, 42, 17)


def table(
    keys: list[tuple[str, str]], props: dict[str, str], location: str | None = "s3://bucket/t/"
) -> Table:
    params = {"projection.enabled": "true", **props}
    return Table(
        "db",
        "t",
        columns=[Column("payload", "string")],
        partition_keys=[Column(name, hive) for name, hive in keys],
        location=location,
        parameters=params,
    )


def config(
    keys: list[tuple[str, str]], props: dict[str, str], **kw: str | None
) -> ProjectionConfig:
    found = ProjectionConfig.from_table(table(keys, props, **kw))
    assert found is not None
    return found


def constraints_for(cfg: ProjectionConfig, sql: str | None) -> dict[str, ColumnConstraint]:
    columns = {k.name.lower(): k.type for k in cfg.table.partition_keys}
    predicate = None
    if sql is not None:
        predicate = (
            sqlglot.parse_one(f"SELECT * FROM t WHERE {sql}", read="athena").args["where"].this
        )
    return extract_constraints(predicate, columns)


def values(cfg: ProjectionConfig, sql: str | None = None, now: datetime = NOW) -> list[list[str]]:
    return [p.values for p in cfg.enumerate(constraints_for(cfg, sql), now)]


def single(cfg: ProjectionConfig, sql: str | None = None, now: datetime = NOW) -> list[str]:
    return [v[0] for v in values(cfg, sql, now)]


# --------------------------------------------------------------------------- enabling


@pytest.mark.parametrize("enabled", [None, "false", "FALSE", "no"])
def test_projection_is_off_unless_enabled_is_true(enabled: str | None) -> None:
    props = {"projection.year.type": "integer", "projection.year.range": "1,3"}
    t = table([("year", "int")], props)
    if enabled is None:
        del t.parameters["projection.enabled"]
    else:
        t.parameters["projection.enabled"] = enabled
    assert ProjectionConfig.from_table(t) is None


@pytest.mark.parametrize("enabled", ["true", "TRUE", " True "])
def test_enabled_is_case_and_space_insensitive(enabled: str) -> None:
    props = {"projection.enabled": enabled, "projection.year.type": " Integer "}
    props["projection.year.range"] = "1,2"
    assert single(config([("year", "int")], props)) == ["1", "2"]


def test_every_partition_column_needs_a_projection_type() -> None:
    props = {"projection.year.type": "integer", "projection.year.range": "1,3"}
    with pytest.raises(InvalidRequestError, match=r"missing projection configuration: \[month\]"):
        config([("year", "int"), ("month", "int")], props)


def test_property_names_match_partition_columns_case_insensitively() -> None:
    props = {"projection.Year.type": "integer", "projection.YEAR.range": "1,2"}
    assert single(config([("year", "int")], props)) == ["1", "2"]


# --------------------------------------------------------------------------- integer


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        ({"projection.n.range": "1,3"}, ["1", "2", "3"]),
        ({"projection.n.range": "1,3", "projection.n.interval": "2"}, ["1", "3"]),
        ({"projection.n.range": "1,3", "projection.n.digits": "1"}, ["1", "2", "3"]),
        ({"projection.n.range": "1,3", "projection.n.digits": "2"}, ["01", "02", "03"]),
        ({"projection.n.range": " 0001 , 0003 "}, ["1", "2", "3"]),
        ({"projection.n.range": "-1,1"}, ["-1", "0", "1"]),
        ({"projection.n.range": "-1,1", "projection.n.digits": "3"}, ["-01", "000", "001"]),
        ({"projection.n.range": "0,10", "projection.n.interval": "5"}, ["0", "5", "10"]),
        ({"projection.n.range": "0,11", "projection.n.interval": "5"}, ["0", "5", "10"]),
        ({"projection.n.range": "7,7"}, ["7"]),
    ],
)
def test_integer_projection_range_interval_and_digits(
    extra: dict[str, str], expected: list[str]
) -> None:
    cfg = config([("n", "string")], {"projection.n.type": "integer", **extra})
    assert single(cfg) == expected


INTEGER_QUERIES = [
    # (column type, extra properties, predicate, expected values)
    ("bigint", {}, "n BETWEEN 10 AND 12", ["10", "11", "12"]),
    ("bigint", {}, "n = 500", ["500"]),
    ("bigint", {}, "n IN (3, 999999, 2000000)", ["3", "999999"]),
    ("bigint", {}, "n > 999998", ["999999", "1000000"]),
    ("bigint", {}, "n < 3", ["1", "2"]),
    ("bigint", {"projection.n.interval": "5"}, "n = 500", []),
    ("bigint", {"projection.n.interval": "5"}, "n BETWEEN 10 AND 20", ["11", "16"]),
    ("bigint", {"projection.n.digits": "7"}, "n = 42", ["0000042"]),
    ("string", {"projection.n.digits": "7"}, "n = '0000042'", ["0000042"]),
    ("string", {"projection.n.digits": "7"}, "n = '42'", []),
    (
        "string",
        {"projection.n.digits": "7"},
        "n BETWEEN '0000010' AND '0000012'",
        ["0000010", "0000011", "0000012"],
    ),
    ("bigint", {}, "n = 0", []),
    ("bigint", {}, "n > 5000000", []),
]


@pytest.mark.parametrize(("hive", "extra", "predicate", "expected"), INTEGER_QUERIES)
def test_integer_constraints_select_only_matching_candidates(
    hive: str, extra: dict[str, str], predicate: str, expected: list[str]
) -> None:
    props = {"projection.n.type": "integer", "projection.n.range": "1,1000000", **extra}
    cfg = config([("n", hive)], props)
    assert single(cfg, predicate) == expected


def test_unpadded_string_integers_fall_back_to_filtering_in_text_order() -> None:
    props = {"projection.n.type": "integer", "projection.n.range": "1,20"}
    cfg = config([("n", "string")], props)
    # As strings, '9' > '10': only values whose text sorts after '9' qualify.
    assert single(cfg, "n > '9'") == []
    assert single(cfg, "n >= '2'") == ["2", "3", "4", "5", "6", "7", "8", "9", "20"]


# --------------------------------------------------------------------------- date

DATE_CASES = [
    # (format, range, interval, unit, expected)
    (
        "yyyy/MM/dd",
        "2024/01/30,2024/02/02",
        None,
        None,
        ["2024/01/30", "2024/01/31", "2024/02/01", "2024/02/02"],
    ),
    (
        "yyyy-MM-dd",
        "2024-02-27,2024-03-01",
        None,
        None,
        ["2024-02-27", "2024-02-28", "2024-02-29", "2024-03-01"],
    ),
    ("yyyyMMdd", "20231231,20240101", None, None, ["20231231", "20240101"]),
    ("yyyy-MM", "2023-11,2024-02", None, None, ["2023-11", "2023-12", "2024-01", "2024-02"]),
    ("yyyyMM", "201701,201812", "6", "MONTHS", ["201701", "201707", "201801", "201807"]),
    (
        "dd-MM-yyyy",
        "30-12-2023,02-01-2024",
        None,
        None,
        ["30-12-2023", "31-12-2023", "01-01-2024", "02-01-2024"],
    ),
    (
        "yyyy-MM-dd-HH",
        "2024-01-01-22,2024-01-02-01",
        "1",
        "HOURS",
        ["2024-01-01-22", "2024-01-01-23", "2024-01-02-00", "2024-01-02-01"],
    ),
    (
        "yyyy/MM/dd/HH",
        "2024/01/01/00,2024/01/01/12",
        "6",
        "hours",
        ["2024/01/01/00", "2024/01/01/06", "2024/01/01/12"],
    ),
    (
        "yyyy-MM-dd'T'HH:mm",
        "2024-01-01T00:00,2024-01-01T00:45",
        "15",
        "MINUTES",
        ["2024-01-01T00:00", "2024-01-01T00:15", "2024-01-01T00:30", "2024-01-01T00:45"],
    ),
    (
        "dd-MM-yyyy-HH-mm-ss",
        "01-01-2024-00-00-58,01-01-2024-00-01-01",
        "1",
        "SECONDS",
        [
            "01-01-2024-00-00-58",
            "01-01-2024-00-00-59",
            "01-01-2024-00-01-00",
            "01-01-2024-00-01-01",
        ],
    ),
    (
        "yyyy/MM/dd",
        "2024/01/01,2024/01/08",
        "2",
        "DAYS",
        ["2024/01/01", "2024/01/03", "2024/01/05", "2024/01/07"],
    ),
    (
        "yyyy-MM-dd",
        "2024-01-01,2024-01-22",
        "1",
        "WEEKS",
        ["2024-01-01", "2024-01-08", "2024-01-15", "2024-01-22"],
    ),
    ("yyyy", "2021,2024", "1", "YEARS", ["2021", "2022", "2023", "2024"]),
    (
        "yyyy-MM-dd",
        "2024-01-31,2024-05-31",
        "1",
        "MONTHS",
        ["2024-01-31", "2024-02-29", "2024-03-31", "2024-04-30", "2024-05-31"],
    ),
    ("yyyy/M/d", "2024/1/9,2024/1/10", None, None, ["2024/1/9", "2024/1/10"]),
    ("yyyy-MMM", "2024-Nov,2025-Jan", None, None, ["2024-Nov", "2024-Dec", "2025-Jan"]),
    (
        "'dt='yyyy-MM-dd",
        "dt=2024-01-01,dt=2024-01-02",
        None,
        None,
        ["dt=2024-01-01", "dt=2024-01-02"],
    ),
]


@pytest.mark.parametrize(("fmt", "rng", "interval", "unit", "expected"), DATE_CASES)
def test_date_projection_formats_intervals_and_units(
    fmt: str, rng: str, interval: str | None, unit: str | None, expected: list[str]
) -> None:
    props = {"projection.dt.type": "date", "projection.dt.format": fmt, "projection.dt.range": rng}
    if interval is not None:
        props["projection.dt.interval"] = interval
    if unit is not None:
        props["projection.dt.interval.unit"] = unit
    assert single(config([("dt", "string")], props)) == expected


RELATIVE_CASES = [
    # (format, range, unit, expected first, expected last, expected count)
    ("yyyy/MM/dd", "NOW-2DAYS,NOW", None, "2026/11/20", "2026/11/22", 3),
    ("yyyy/MM/dd", "NOW - 2 DAYS , NOW + 1 DAY", None, "2026/11/20", "2026/11/23", 4),
    ("yyyy-MM-dd", "NOW-1WEEK,NOW", None, "2026-11-15", "2026-11-22", 8),
    ("yyyyMM", "201801,NOW+1MONTH", None, "201801", "202612", 108),
    ("yyyy-MM", "NOW-1YEAR,NOW", None, "2025-11", "2026-11", 13),
    (
        "yyyy/MM/dd/HH",
        "NOW-3YEARS,NOW",
        "HOURS",
        "2023/11/22/06",
        "2026/11/22/06",
        (datetime(2026, 11, 22, 6) - datetime(2023, 11, 22, 6)) // timedelta(hours=1) + 1,
    ),
    (
        "yyyy-MM-dd-HH-mm",
        "NOW-90MINUTES,NOW",
        "MINUTES",
        "2026-11-22-05-12",
        "2026-11-22-06-42",
        91,
    ),
    (
        "yyyy-MM-dd HH:mm:ss",
        "NOW-2SECONDS,NOW",
        "SECONDS",
        "2026-11-22 06:42:15",
        "2026-11-22 06:42:17",
        3,
    ),
]


@pytest.mark.parametrize(("fmt", "rng", "unit", "first", "last", "count"), RELATIVE_CASES)
def test_relative_ranges_are_resolved_against_now_and_truncated_to_the_format(
    fmt: str, rng: str, unit: str | None, first: str, last: str, count: int
) -> None:
    props = {"projection.dt.type": "date", "projection.dt.format": fmt, "projection.dt.range": rng}
    if unit is not None:
        props["projection.dt.interval.unit"] = unit
    found = single(config([("dt", "string")], props))
    assert (found[0], found[-1], len(found)) == (first, last, count)


def test_relative_range_moves_with_now_and_aware_now_is_converted_to_utc() -> None:
    props = {
        "projection.dt.type": "date",
        "projection.dt.format": "yyyy-MM-dd-HH",
        "projection.dt.range": "NOW-1HOUR,NOW",
        "projection.dt.interval.unit": "HOURS",
    }
    cfg = config([("dt", "string")], props)
    tokyo = timezone(timedelta(hours=9))
    assert single(cfg, now=datetime(2024, 3, 1, 9, 30, tzinfo=tokyo)) == [
        "2024-02-29-23",
        "2024-03-01-00",
    ]
    assert single(cfg, now=datetime(2024, 3, 1, 10, 5, tzinfo=UTC)) == [
        "2024-03-01-09",
        "2024-03-01-10",
    ]


def hourly_three_years() -> ProjectionConfig:
    props = {
        "projection.dt.type": "date",
        "projection.dt.format": "yyyy/MM/dd/HH",
        "projection.dt.range": "NOW-3YEARS,NOW",
        "projection.dt.interval": "1",
        "projection.dt.interval.unit": "HOURS",
        "storage.location.template": "s3://bucket/logs/${dt}/",
    }
    return config([("dt", "string")], props)


@pytest.mark.parametrize(
    "predicate",
    [
        "dt >= '2025/03/04/00' AND dt < '2025/03/05/00'",
        "dt BETWEEN '2025/03/04/00' AND '2025/03/04/23'",
        "dt > '2025/03/03/23' AND dt <= '2025/03/04/23'",
        "dt LIKE '2025/03/04/%'",
        "dt >= '2025/03/04' AND dt < '2025/03/05'",
    ],
)
def test_one_day_of_a_three_year_hourly_range_enumerates_24_candidates(predicate: str) -> None:
    cfg = hourly_three_years()
    # A limit just above a day's worth proves the full 26k-value range is never enumerated.
    found = list(cfg.enumerate(constraints_for(cfg, predicate), NOW, limit=30))
    assert [p.values[0] for p in found] == [f"2025/03/04/{h:02d}" for h in range(24)]
    assert found[5].location == "s3://bucket/logs/2025/03/04/05/"


@pytest.mark.parametrize(
    ("predicate", "expected"),
    [
        ("dt = '2025/03/04/07'", ["2025/03/04/07"]),
        ("dt IN ('2025/03/04/07', '2025/03/04/08', 'junk')", ["2025/03/04/07", "2025/03/04/08"]),
        ("dt = '2025/3/4/07'", []),
        ("dt = '2019/03/04/07'", []),
        ("dt = '2030/03/04/07'", []),
        ("dt > '2030'", []),
        ("dt < '2000'", []),
        ("dt = '2025/03/04/07' AND dt > '2025/03/04/07'", []),
    ],
)
def test_equality_lookups_and_out_of_range_filters_on_dates(
    predicate: str, expected: list[str]
) -> None:
    assert single(hourly_three_years(), predicate) == expected


def test_non_order_preserving_date_format_is_filtered_value_by_value() -> None:
    props = {
        "projection.dt.type": "date",
        "projection.dt.format": "dd-MM-yyyy",
        "projection.dt.range": "01-01-2024,31-12-2024",
    }
    cfg = config([("dt", "string")], props)
    found = single(cfg, "dt >= '30-06-2024'")
    # Text order, as Athena compares strings: 30-06 to 30-12 and every 31st of the year.
    assert found[:4] == ["31-01-2024", "31-03-2024", "31-05-2024", "30-06-2024"]
    assert len(found) == 7 + 7


def test_date_typed_column_gets_hive_values_and_the_template_the_format() -> None:
    # Athena docs, VPC flow logs: PARTITIONED BY (`date` date) with a yyyy/MM/dd layout.
    props = {
        "projection.date.type": "date",
        "projection.date.format": "yyyy/MM/dd",
        "projection.date.range": "2021/01/01,NOW",
        "storage.location.template": "s3://bucket/AWSLogs/${date}",
    }
    cfg = config([("date", "date")], props)
    found = list(cfg.enumerate(constraints_for(cfg, "\"date\" = DATE '2024-01-02'"), NOW))
    assert found == [ProjectedPartition(["2024-01-02"], "s3://bucket/AWSLogs/2024/01/02/")]
    week = single(cfg, "\"date\" BETWEEN DATE '2024-01-02' AND DATE '2024-01-08'")
    assert week == [f"2024-01-0{d}" for d in range(2, 9)]
    assert single(cfg, "\"date\" = TIMESTAMP '2024-01-02 10:00:00'") == []


def test_timestamp_typed_column_values_are_hive_timestamps() -> None:
    props = {
        "projection.ts.type": "date",
        "projection.ts.format": "yyyy-MM-dd-HH",
        "projection.ts.range": "2024-01-01-00,2024-01-01-03",
        "projection.ts.interval.unit": "HOURS",
    }
    cfg = config([("ts", "timestamp")], props)
    assert single(cfg, "ts >= TIMESTAMP '2024-01-01 02:00:00'") == [
        "2024-01-01 02:00:00",
        "2024-01-01 03:00:00",
    ]
    assert single(cfg, "ts = TIMESTAMP '2024-01-01 00:00:00'") == ["2024-01-01 00:00:00"]


# --------------------------------------------------------------------------- enum / injected


def test_enum_values_keep_white_space_and_filter_by_constraint() -> None:
    props = {"projection.region.type": "enum", "projection.region.values": "us-east-1, eu-west-1"}
    cfg = config([("region", "string")], props)
    assert single(cfg) == ["us-east-1", " eu-west-1"]
    assert single(cfg, "region = 'eu-west-1'") == []
    assert single(cfg, "region IN ('us-east-1', 'ap-south-1')") == ["us-east-1"]


INJECTED = {
    "projection.device_id.type": "injected",
    "storage.location.template": "s3://bucket/prefix/${device_id}",
}
INJECTED_ERROR = (
    "CONSTRAINT_VIOLATION: For the injected projected partition column device_id, the WHERE "
    "clause must contain only static equality conditions, and at least one such condition "
    "must be present."
)


@pytest.mark.parametrize(
    "predicate",
    [None, "col1 > 0", "device_id > 'a'", "device_id LIKE 'b63%'", "device_id = 'a' OR col1 = 1"],
)
def test_injected_projection_requires_equality_filter(predicate: str | None) -> None:
    cfg = config([("device_id", "string")], INJECTED)
    with pytest.raises(InvalidRequestError) as err:
        values(cfg, predicate)
    assert str(err.value) == INJECTED_ERROR


def test_injected_projection_reads_the_queried_devices() -> None:
    # The Athena docs' dynamic-ID example.
    cfg = config([("device_id", "string")], INJECTED)
    predicate = "device_id = 'b6319dc2-48c1-4cd5-a0a3-a1969f7b48f7' AND (col1 > 0 OR col2 < 10)"
    found = list(cfg.enumerate(constraints_for(cfg, predicate), NOW))
    assert found == [
        ProjectedPartition(
            ["b6319dc2-48c1-4cd5-a0a3-a1969f7b48f7"],
            "s3://bucket/prefix/b6319dc2-48c1-4cd5-a0a3-a1969f7b48f7/",
        )
    ]
    assert single(cfg, "device_id IN ('b', 'a')") == ["a", "b"]
    assert single(cfg, "device_id IN ('a', 'b') AND device_id > 'a'") == ["b"]


def test_injected_projection_needs_a_string_column() -> None:
    with pytest.raises(InvalidRequestError, match=r"projection\.device_id\.type"):
        config([("device_id", "int")], {"projection.device_id.type": "injected"})


# --------------------------------------------------------------------------- real tables


def cloudtrail() -> ProjectionConfig:
    props = {
        "projection.account.type": "injected",
        "projection.region.type": "enum",
        "projection.region.values": "us-east-1,us-west-2,eu-west-1",
        "projection.timestamp.type": "date",
        "projection.timestamp.format": "yyyy/MM/dd",
        "projection.timestamp.interval": "1",
        "projection.timestamp.interval.unit": "DAYS",
        "projection.timestamp.range": "2020/01/01,NOW",
        "storage.location.template": (
            "s3://bucket/AWSLogs/${account}/CloudTrail/${region}/${timestamp}"
        ),
    }
    keys = [("account", "string"), ("region", "string"), ("timestamp", "string")]
    return config(keys, props, location="s3://bucket/AWSLogs/")


def test_cloudtrail_table_from_the_athena_docs() -> None:
    cfg = cloudtrail()
    predicate = (
        "account = '123456789012' AND region = 'us-east-1' "
        "AND \"timestamp\" BETWEEN '2024/01/01' AND '2024/01/03' AND eventname = 'ConsoleLogin'"
    )
    found = list(cfg.enumerate(constraints_for(cfg, predicate), NOW))
    assert [p.location for p in found] == [
        f"s3://bucket/AWSLogs/123456789012/CloudTrail/us-east-1/2024/01/0{d}/" for d in (1, 2, 3)
    ]
    assert found[0].values == ["123456789012", "us-east-1", "2024/01/01"]


def test_cloudtrail_across_regions_is_the_product_in_key_order() -> None:
    cfg = cloudtrail()
    predicate = "account = '1' AND \"timestamp\" >= '2026/11/21'"
    assert values(cfg, predicate) == [
        ["1", region, day]
        for region in ("us-east-1", "us-west-2", "eu-west-1")
        for day in ("2026/11/21", "2026/11/22")
    ]


def test_vpc_flow_logs_with_date_and_enum_region() -> None:
    props = {
        "projection.accid.type": "enum",
        "projection.accid.values": "111122223333,444455556666",
        "projection.region.type": "enum",
        "projection.region.values": "us-east-1,us-west-2",
        "projection.day.type": "date",
        "projection.day.range": "2021/01/01,NOW",
        "projection.day.format": "yyyy/MM/dd",
        "storage.location.template": ("s3://bucket/AWSLogs/${accid}/vpcflowlogs/${region}/${day}"),
    }
    cfg = config([("accid", "string"), ("region", "string"), ("day", "string")], props)
    predicate = "region = 'us-west-2' AND day = '2024/02/29'"
    found = list(cfg.enumerate(constraints_for(cfg, predicate), NOW))
    assert [p.location for p in found] == [
        "s3://bucket/AWSLogs/111122223333/vpcflowlogs/us-west-2/2024/02/29/",
        "s3://bucket/AWSLogs/444455556666/vpcflowlogs/us-west-2/2024/02/29/",
    ]


def test_without_template_partitions_live_in_hive_style_folders() -> None:
    props = {
        "projection.year.type": "integer",
        "projection.year.range": "2010,2016",
        "projection.dt.type": "date",
        "projection.dt.format": "yyyy/MM/dd",
        "projection.dt.range": "2016/01/01,2016/01/02",
    }
    cfg = config([("year", "int"), ("dt", "string")], props, location="s3://bucket/t")
    found = list(cfg.enumerate(constraints_for(cfg, "year = 2016 AND dt = '2016/01/02'"), NOW))
    assert found == [
        ProjectedPartition(["2016", "2016/01/02"], "s3://bucket/t/year=2016/dt=2016%2F01%2F02/")
    ]


def test_template_may_repeat_placeholders() -> None:
    props = {
        "projection.a.type": "enum",
        "projection.a.values": "x",
        "projection.b.type": "integer",
        "projection.b.range": "1,1",
        "storage.location.template": "s3://bucket/root/a=${a}/${b}/static/${a}/${B}",
    }
    cfg = config([("a", "string"), ("b", "int")], props)
    assert [p.location for p in cfg.enumerate({}, NOW)] == ["s3://bucket/root/a=x/1/static/x/1/"]


# --------------------------------------------------------------------------- validation


@pytest.mark.parametrize(
    ("template", "message"),
    [
        ("s3://bucket/root/a=${a}/${b}/some_static_subdirectory/", r"\$\{c\} is missing"),
        ("s3://bucket/${a}/${b}/${c}/${d}/", r"\$\{d\}, which is not a partition column"),
    ],
)
def test_template_must_name_every_partition_column_and_only_those(
    template: str, message: str
) -> None:
    props = {f"projection.{c}.type": "injected" for c in "abc"}
    props["storage.location.template"] = template
    with pytest.raises(InvalidRequestError, match=message) as err:
        config([("a", "string"), ("b", "string"), ("c", "string")], props)
    assert "storage.location.template" in str(err.value)


BAD_PROPERTIES = [
    ({"projection.n.type": "range"}, "projection.n.type"),
    ({"projection.n.type": "integer"}, "projection.n.range"),
    ({"projection.n.type": "integer", "projection.n.range": "1-10"}, "projection.n.range"),
    ({"projection.n.type": "integer", "projection.n.range": "1,x"}, "projection.n.range"),
    ({"projection.n.type": "integer", "projection.n.range": "9,1"}, "projection.n.range"),
    (
        {"projection.n.type": "integer", "projection.n.range": "1,9", "projection.n.interval": "0"},
        "projection.n.interval",
    ),
    (
        {"projection.n.type": "integer", "projection.n.range": "1,9", "projection.n.digits": "x"},
        "projection.n.digits",
    ),
    ({"projection.n.type": "enum"}, "projection.n.values"),
    ({"projection.n.type": "date", "projection.n.range": "2024,2025"}, "projection.n.format"),
    ({"projection.n.type": "date", "projection.n.format": "yyyy-MM-dd"}, "projection.n.range"),
    (
        {
            "projection.n.type": "date",
            "projection.n.format": "yyyy-MM-dd",
            "projection.n.range": "2024/01/01,NOW",
        },
        "projection.n.range",
    ),
    (
        {
            "projection.n.type": "date",
            "projection.n.format": "yyyy-MM-dd",
            "projection.n.range": "2024-01-01,NOW-3FORTNIGHTS",
        },
        "projection.n.range",
    ),
    (
        {
            "projection.n.type": "date",
            "projection.n.format": "yyyy-MM-dd",
            "projection.n.range": "2024-01-01",
        },
        "projection.n.range",
    ),
    (
        {
            "projection.n.type": "date",
            "projection.n.format": "yyyy-MM-dd",
            "projection.n.range": "2024-02-01,2024-01-01",
        },
        "projection.n.range",
    ),
    (
        {
            "projection.n.type": "date",
            "projection.n.format": "EEE yyyy",
            "projection.n.range": "NOW,NOW",
        },
        "projection.n.format",
    ),
    (
        {
            "projection.n.type": "date",
            "projection.n.format": "yyyy-MM-dd'T",
            "projection.n.range": "NOW,NOW",
        },
        "projection.n.format",
    ),
    (
        {
            "projection.n.type": "date",
            "projection.n.format": "yyyy-MM-dd-HH",
            "projection.n.range": "NOW-1DAY,NOW",
        },
        "projection.n.interval.unit",
    ),
    (
        {
            "projection.n.type": "date",
            "projection.n.format": "yyyy",
            "projection.n.range": "2020,2024",
        },
        "projection.n.interval.unit",
    ),
    (
        {
            "projection.n.type": "date",
            "projection.n.format": "yyyy-MM-dd",
            "projection.n.range": "NOW-1DAY,NOW",
            "projection.n.interval.unit": "FORTNIGHTS",
        },
        "projection.n.interval.unit",
    ),
    (
        {
            "projection.n.type": "date",
            "projection.n.format": "yyyy-MM-dd",
            "projection.n.range": "NOW-1DAY,NOW",
            "projection.n.interval": "-1",
        },
        "projection.n.interval",
    ),
]


@pytest.mark.parametrize(("props", "property_name"), BAD_PROPERTIES)
def test_invalid_property_values_are_rejected_naming_the_property(
    props: dict[str, str], property_name: str
) -> None:
    with pytest.raises(InvalidRequestError) as err:
        config([("n", "string")], props)
    assert f"'{property_name}'" in str(err.value)


def test_projection_without_location_or_template_is_rejected() -> None:
    props = {"projection.n.type": "integer", "projection.n.range": "1,2"}
    with pytest.raises(InvalidRequestError, match=r"storage\.location\.template"):
        config([("n", "int")], props, location=None)


# --------------------------------------------------------------------------- limits


def test_enumerating_more_than_the_limit_fails_before_listing_anything() -> None:
    cfg = hourly_three_years()
    with pytest.raises(InvalidRequestError, match="HIVE_EXCEEDED_PARTITION_LIMIT"):
        cfg.enumerate({}, NOW, limit=1000)
    assert len(list(cfg.enumerate({}, NOW))) == 26305


def test_limit_applies_to_the_product_of_columns() -> None:
    props = {
        "projection.a.type": "integer",
        "projection.a.range": "1,400",
        "projection.b.type": "integer",
        "projection.b.range": "1,400",
    }
    cfg = config([("a", "int"), ("b", "int")], props)
    with pytest.raises(InvalidRequestError, match="160000"):
        cfg.enumerate({}, NOW, limit=100_000)
    narrowed = constraints_for(cfg, "a <= 10")
    assert len(list(cfg.enumerate(narrowed, NOW, limit=100_000))) == 4000


def test_an_empty_column_means_no_partitions_even_when_others_are_huge() -> None:
    props = {
        "projection.a.type": "integer",
        "projection.a.range": "1,100000000",
        "projection.b.type": "enum",
        "projection.b.values": "x,y",
    }
    cfg = config([("a", "bigint"), ("b", "string")], props)
    assert list(cfg.enumerate(constraints_for(cfg, "b = 'z'"), NOW, limit=10)) == []


def test_last_seven_days_query_reads_eight_days_of_a_multi_year_projection() -> None:
    cfg = cloudtrail()
    predicate = (
        "account = '123456789012' AND region = 'eu-west-1' AND \"timestamp\" "
        "BETWEEN date_format(current_date - INTERVAL '7' DAY, '%Y/%m/%d') "
        "AND date_format(current_date, '%Y/%m/%d') AND eventname = 'ConsoleLogin'"
    )
    columns = {k.name.lower(): k.type for k in cfg.table.partition_keys}
    tree = sqlglot.parse_one(f"SELECT * FROM t WHERE {predicate}", read="athena")
    found = extract_constraints(tree.args["where"].this, columns, now=NOW)
    days = [p.values[2] for p in cfg.enumerate(found, NOW, limit=10)]
    assert days == [f"2026/11/{d}" for d in range(15, 23)]


@pytest.mark.parametrize("value", ["..", "../other_table", "a/../../b", ".", "a\\..\\b"])
def test_injected_values_cannot_climb_out_of_the_table_location(value: str) -> None:
    cfg = config([("device_id", "string")], INJECTED)
    sql_value = value.replace("'", "''")
    assert single(cfg, f"device_id = '{sql_value}'") == []
    assert single(cfg, f"device_id IN ('{sql_value}', 'ok..name')") == ["ok..name"]
