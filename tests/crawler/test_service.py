from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from lakebox.catalog.model import Database, Table
from lakebox.config import LakeConfig
from lakebox.crawler import Crawler, CrawlerService, Progress, Target
from lakebox.crawler.model import Classifier
from lakebox.crawler.store import CrawlerRunningError
from lakebox.errors import (
    AlreadyExistsError,
    EntityNotFoundError,
    InvalidLocationError,
    InvalidRequestError,
)

from .conftest import columns, crawl, partitions, tables, write


def csv(rows: list[str]) -> str:
    return "".join(r + "\n" for r in rows)


# -- definitions ---------------------------------------------------------------------------


def test_crawler_definitions_persist_across_service_instances(
    service: CrawlerService, config: LakeConfig
) -> None:
    service.create_crawler(
        Crawler(
            "one", "db", [Target("s3://data/x/", ["*.tmp"])], table_prefix="raw_", sample_size=5
        )
    )
    again = CrawlerService(config)
    got = again.get_crawler("one")
    assert got.targets[0].exclusions == ["*.tmp"]
    assert (got.table_prefix, got.sample_size) == ("raw_", 5)
    assert [c.name for c in again.list_crawlers()] == ["one"]
    updated = again.update_crawler("one", update_behavior="LOG", targets=[Target("s3://data/y/")])
    assert updated.version == 2
    assert service.get_crawler("one").targets[0].path == "s3://data/y/"
    service.delete_crawler("one")
    with pytest.raises(EntityNotFoundError):
        service.get_crawler("one")
    assert (config.metadata_dir / "crawlers.sqlite").exists()


@pytest.mark.parametrize(
    "kwargs",
    [
        {"update_behavior": "MERGE"},
        {"delete_behavior": "DROP"},
        {"recrawl_behavior": "CRAWL_NEW_FOLDERS_ONLY"},  # needs LOG / LOG, as in Glue
        {"sample_size": 0},
        {"table_level": 0},
        {"classifiers": [Classifier("g", "grok")]},
        {"classifiers": [Classifier("g", "grok", pattern="%{NOPE:x}")]},
    ],
)
def test_invalid_definitions_are_rejected(service: CrawlerService, kwargs: dict) -> None:
    with pytest.raises(InvalidRequestError):
        service.create_crawler(Crawler("bad", "db", [Target("s3://data/")], **kwargs))


def test_create_requires_database_and_unique_name(service: CrawlerService) -> None:
    with pytest.raises(EntityNotFoundError):
        service.create_crawler(Crawler("c", "nodb", [Target("s3://data/")]))
    with pytest.raises(InvalidRequestError):
        service.create_crawler(Crawler("c", "db", [Target("s3://data/", ["{a,{b}}"])]))
    service.create_crawler(Crawler("c", "db", [Target("s3://data/")]))
    with pytest.raises(AlreadyExistsError):
        service.create_crawler(Crawler("c", "db", [Target("s3://data/")]))


# -- partitions and grouping ---------------------------------------------------------------


def test_hive_partitions_become_named_keys(service: CrawlerService, bucket_dir: Path) -> None:
    for y, m in [("2023", "12"), ("2024", "01"), ("2024", "02")]:
        write(
            bucket_dir / "sales" / f"year={y}" / f"month={m}" / "part.csv",
            csv(["id,amount", f"{m},1.5", "2,3"]),
        )
    run = crawl(service, "s3://data/sales/")
    t = tables(service)["sales"]
    assert t.location == "s3://data/sales/"
    assert columns(t) == [("id", "bigint"), ("amount", "double")]
    assert [(k.name, k.type) for k in t.partition_keys] == [("year", "string"), ("month", "string")]
    assert partitions(service, "sales") == [["2023", "12"], ["2024", "01"], ["2024", "02"]]
    part = service.catalog.get_partitions("db", "sales")[0]
    assert part.location == "s3://data/sales/year=2023/month=12/"
    assert part.parameters["recordCount"] == "2"
    assert run.tables_created == ["sales"] and run.partitions_added == 3
    p = t.parameters
    assert p["classification"] == "csv" and p["typeOfData"] == "file"
    assert p["objectCount"] == "3" and p["recordCount"] == "6"
    assert int(p["sizeKey"]) == sum(f.stat().st_size for f in bucket_dir.rglob("*.csv"))
    assert p["UPDATED_BY_CRAWLER"] == "c" and p["CrawlerSchemaDeserializerVersion"] == "1.0"
    assert p["CRAWL_RUN_ID"] == run.id
    assert int(p["averageRecordSize"]) > 0


def test_plain_folders_become_partition_n(service: CrawlerService, bucket_dir: Path) -> None:
    for d in ["2024/01/01", "2024/01/02", "2024/02/01"]:
        write(bucket_dir / "logs" / d / "x.json", '{"a": 1}\n')
    crawl(service, "s3://data/logs/")
    t = tables(service)["logs"]
    assert [k.name for k in t.partition_keys] == ["partition_0", "partition_1", "partition_2"]
    assert partitions(service, "logs") == [
        ["2024", "01", "01"],
        ["2024", "01", "02"],
        ["2024", "02", "01"],
    ]


def test_mixed_hive_and_plain_levels(service: CrawlerService, bucket_dir: Path) -> None:
    write(bucket_dir / "t" / "region=eu" / "2024" / "a.json", '{"a": 1}\n')
    write(bucket_dir / "t" / "region=us" / "2025" / "a.json", '{"a": 2}\n')
    crawl(service, "s3://data/t/")
    t = tables(service)["t"]
    assert [k.name for k in t.partition_keys] == ["region", "partition_1"]
    assert partitions(service, "t") == [["eu", "2024"], ["us", "2025"]]


def test_incompatible_siblings_become_separate_tables(
    service: CrawlerService, bucket_dir: Path
) -> None:
    write(bucket_dir / "users" / "a.json", '{"id": 1, "name": "x"}\n')
    write(bucket_dir / "orders" / "a.csv", csv(["id,total", "1,2.5"]))
    write(bucket_dir / "other" / "a.json", '{"k1": 1, "k2": 2, "k3": 3}\n')
    run = crawl(service)
    assert sorted(run.tables_created) == ["orders", "other", "users"]
    assert tables(service)["orders"].parameters["classification"] == "csv"
    assert columns(tables(service)["other"]) == [("k1", "int"), ("k2", "int"), ("k3", "int")]


def test_similar_siblings_merge_into_partitions(service: CrawlerService, bucket_dir: Path) -> None:
    write(bucket_dir / "ev" / "a" / "x.json", '{"a": 1, "b": 2, "c": 3, "d": 4}\n')
    write(bucket_dir / "ev" / "b" / "x.json", '{"a": 1.5, "b": 2, "c": 3, "d": 4, "e": 5}\n')
    crawl(service, "s3://data/ev/")
    t = tables(service)["ev"]
    assert columns(t) == [("a", "double"), ("b", "int"), ("c", "int"), ("d", "int"), ("e", "int")]
    assert partitions(service, "ev") == [["a"], ["b"]]


def test_combine_compatible_schemas_groups_dissimilar_folders(
    service: CrawlerService, bucket_dir: Path
) -> None:
    write(bucket_dir / "ev" / "a" / "x.json", '{"a": 1}\n')
    write(bucket_dir / "ev" / "b" / "x.json", '{"b": 1, "c": 2}\n')
    crawl(service, "s3://data/ev/", name="split")
    assert {"a", "b"} <= set(tables(service))
    for t in list(tables(service)):
        service.catalog.drop_table("db", t)
    crawl(service, "s3://data/ev/", name="combined", combine_compatible_schemas=True)
    assert columns(tables(service)["ev"]) == [("a", "int"), ("b", "int"), ("c", "int")]


def test_table_level_pins_where_tables_start(service: CrawlerService, bucket_dir: Path) -> None:
    write(bucket_dir / "lake" / "a" / "x.json", '{"a": 1}\n')
    write(bucket_dir / "lake" / "b" / "x.json", '{"zzz": "q"}\n')
    # s3://data is level 1, lake 2: tables at level 2 force one table with partitions
    crawl(service, table_level=2)
    t = tables(service)["lake"]
    assert [k.name for k in t.partition_keys] == ["partition_0"]
    assert [c.name for c in t.columns] == ["a", "zzz"]


def test_table_prefix_and_name_collisions(service: CrawlerService, bucket_dir: Path) -> None:
    write(bucket_dir / "x" / "my-data" / "a.json", '{"a": 1}\n')
    write(bucket_dir / "y" / "my-data" / "a.csv", csv(["p,q", "1,2"]))
    targets = [Target("s3://data/x/my-data/"), Target("s3://data/y/my-data")]
    service.create_crawler(Crawler("c", "db", targets, table_prefix="raw_"))
    run = service.start_crawler("c")
    names = sorted(run.tables_created)
    assert names[0] == "raw_my_data" and names[1].startswith("raw_my_data_")
    locations = {t.location for t in tables(service).values()}
    assert locations == {"s3://data/x/my-data/", "s3://data/y/my-data/"}


def test_files_at_table_root_beside_other_folders_are_skipped(
    service: CrawlerService, bucket_dir: Path
) -> None:
    write(bucket_dir / "loose.csv", csv(["a,b", "1,2"]))
    write(bucket_dir / "t1" / "x.json", '{"a": 1}\n')
    write(bucket_dir / "t2" / "x.csv", csv(["q,r", "1,2"]))
    run = crawl(service)
    assert sorted(run.tables_created) == ["t1", "t2"]
    assert [s.uri for s in run.skipped] == ["s3://data/loose.csv"]


def test_local_folder_targets_outside_the_lake_need_allowing(
    lake_home: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "plain" / "events"
    write(folder / "day=1" / "a.json", '{"a": 1}\n')
    refused = CrawlerService(LakeConfig.from_env(home=lake_home, storage="local"))
    refused.catalog.create_database(Database("db"))
    with pytest.raises(InvalidLocationError, match="LAKEBOX_ALLOWED_PATHS"):
        refused.create_crawler(Crawler("c", "db", [Target(str(folder), [])]))
    service = CrawlerService(
        LakeConfig.from_env(home=lake_home, storage="local", allowed_paths=(tmp_path / "plain",))
    )
    crawl(service, str(folder))
    t = tables(service)["events"]
    assert t.location == f"file://{folder}/"
    assert partitions(service, "events") == [["1"]]


# -- exclusions, sampling, corrupt files, progress --------------------------------------------


def test_exclusions_leave_files_out(service: CrawlerService, bucket_dir: Path) -> None:
    write(bucket_dir / "t" / "a.json", '{"a": 1}\n')
    write(bucket_dir / "t" / "b.json", '{"a": 1, "secret": "x"}\n')
    write(bucket_dir / "tmp" / "x.csv", csv(["a,b", "1,2"]))
    write(bucket_dir / "u" / "x.csv", csv(["p,q,r", "1,2,3"]))
    run = crawl(service, exclusions=["t/b.*", "tmp/**"])
    assert sorted(run.tables_created) == ["t", "u"]
    assert columns(tables(service)["t"]) == [("a", "int")]
    assert run.files_seen == 2


def test_corrupt_files_are_reported_and_skipped(service: CrawlerService, bucket_dir: Path) -> None:
    write(bucket_dir / "t" / "good.json", '{"a": 1}\n')
    (bucket_dir / "t" / "bad.parquet").write_bytes(b"PAR1 not really")
    write(bucket_dir / "t" / "bad.json", '{"a": 1}\n{"a": \n{"a": 2}\n')
    (bucket_dir / "t" / "trunc.json.gz").write_bytes(b"\x1f\x8b\x08\x00\x00garbage")
    run = crawl(service, "s3://data/t/")
    assert run.tables_created == ["t"]
    reasons = {s.uri.rsplit("/", 1)[1]: s.reason for s in run.skipped}
    assert set(reasons) == {"bad.parquet", "bad.json", "trunc.json.gz"}
    assert "Parquet" in reasons["bad.parquet"] and "JSON" in reasons["bad.json"]
    assert tables(service)["t"].parameters["objectCount"] == "1"


def test_sample_size_reads_only_some_files_per_folder(
    service: CrawlerService, bucket_dir: Path
) -> None:
    for i in range(6):
        write(bucket_dir / "t" / f"f{i}.csv", csv(["a,b"] + ["1,2"] * (i + 1)))
    run = crawl(service, "s3://data/t/", sample_size=2)
    assert run.files_read == 2 and run.files_seen == 6
    t = tables(service)["t"]
    assert t.parameters["objectCount"] == "6"
    assert int(t.parameters["recordCount"]) >= 6


def test_progress_reports_each_phase(service: CrawlerService, bucket_dir: Path) -> None:
    for i in range(3):
        write(bucket_dir / "t" / f"p={i}" / "a.json", '{"a": 1}\n')
    events: list[Progress] = []
    service.create_crawler(Crawler("c", "db", [Target("s3://data/")]))
    service.start_crawler("c", progress=events.append)
    reading = [e for e in events if e.phase == "reading"]
    assert [e.done for e in reading] == [0, 1, 2, 3] and reading[-1].total == 3
    assert {e.phase for e in events} == {"listing", "reading", "writing"}


def test_a_running_crawler_cannot_start_twice_or_be_deleted(
    service: CrawlerService, bucket_dir: Path
) -> None:
    write(bucket_dir / "t" / "a.json", '{"a": 1}\n')
    service.create_crawler(Crawler("c", "db", [Target("s3://data/t/")]))
    errors: list[Exception] = []

    def interfere(p: Progress) -> None:
        if p.phase == "reading" and p.done == 0:
            for action in (lambda: service.start_crawler("c"), lambda: service.delete_crawler("c")):
                try:
                    action()
                except CrawlerRunningError as err:
                    errors.append(err)

    run = service.start_crawler("c", progress=interfere)
    assert run.state == "SUCCEEDED" and len(errors) == 2
    assert [r.id for r in service.list_runs("c")] == [run.id]


def test_run_fails_cleanly_when_database_was_dropped(
    service: CrawlerService, bucket_dir: Path
) -> None:
    write(bucket_dir / "t" / "a.json", '{"a": 1}\n')
    service.create_crawler(Crawler("c", "db", [Target("s3://data/")]))
    service.catalog.drop_database("db")
    run = service.start_crawler("c")
    assert run.state == "FAILED" and "db" in (run.error or "")
    assert service.list_runs("c")[0].state == "FAILED"


# -- later runs ------------------------------------------------------------------------------


def test_new_partitions_are_added_on_later_runs(service: CrawlerService, bucket_dir: Path) -> None:
    write(bucket_dir / "t" / "dt=1" / "a.json", '{"a": 1}\n')
    crawl(service, "s3://data/t/")
    write(bucket_dir / "t" / "dt=2" / "a.json", '{"a": 2}\n')
    run = crawl(service)
    assert run.partitions_added == 1 and run.tables_created == []
    assert partitions(service, "t") == [["1"], ["2"]]
    again = crawl(service)
    assert again.partitions_added == 0 and again.tables_updated == []


def _drift(bucket_dir: Path) -> None:
    write(bucket_dir / "t" / "dt=1" / "a.json", '{"a": 1, "b": "x", "c": 1}\n')


def test_schema_drift_updates_table_with_update_in_database(
    service: CrawlerService, bucket_dir: Path
) -> None:
    _drift(bucket_dir)
    crawl(service, "s3://data/t/")
    service.catalog.update_table(_with_param(service, "owner", "me"))
    write(bucket_dir / "t" / "dt=2" / "a.json", '{"d": true, "a": 2.5, "b": "y", "c": 2}\n')
    run = crawl(service)
    assert run.tables_updated == ["t"]
    t = tables(service)["t"]
    assert columns(t) == [("a", "double"), ("b", "string"), ("c", "int"), ("d", "boolean")]
    assert t.parameters["owner"] == "me"  # user parameters survive
    assert partitions(service, "t") == [["1"], ["2"]]


def test_new_partition_levels_replace_the_partitions(
    service: CrawlerService, bucket_dir: Path
) -> None:
    first = write(bucket_dir / "t" / "dt=1" / "a.json", '{"a": 1}\n')
    crawl(service, "s3://data/t/")
    first.unlink()
    write(bucket_dir / "t" / "dt=1" / "h=0" / "a.json", '{"a": 1}\n')
    write(bucket_dir / "t" / "dt=2" / "h=5" / "a.json", '{"a": 2}\n')
    run = crawl(service)
    assert run.tables_updated == ["t"] and run.partitions_added == 2
    assert [k.name for k in tables(service)["t"].partition_keys] == ["dt", "h"]
    assert partitions(service, "t") == [["1", "0"], ["2", "5"]]


def test_schema_drift_is_only_logged_with_log(service: CrawlerService, bucket_dir: Path) -> None:
    _drift(bucket_dir)
    crawl(service, "s3://data/t/", update_behavior="LOG")
    write(bucket_dir / "t" / "dt=2" / "a.json", '{"a": 2.5, "b": "y", "c": 2, "d": true}\n')
    run = crawl(service)
    assert run.tables_updated == []
    assert columns(tables(service)["t"]) == [("a", "int"), ("b", "string"), ("c", "int")]
    assert any("added d" in line and "a int -> double" in line for line in run.log)
    assert partitions(service, "t") == [["1"], ["2"]]


def _with_param(service: CrawlerService, key: str, value: str) -> Table:
    t = service.catalog.get_table("db", "t")
    t.parameters[key] = value
    return t


@pytest.mark.parametrize(
    ("behavior", "expect"),
    [("DEPRECATE_IN_DATABASE", "deprecated"), ("DELETE_FROM_DATABASE", "deleted"), ("LOG", "kept")],
)
def test_vanished_tables_follow_delete_behavior(
    service: CrawlerService, bucket_dir: Path, behavior: str, expect: str
) -> None:
    write(bucket_dir / "keep" / "a.json", '{"a": 1}\n')
    gone = write(bucket_dir / "gone" / "a.csv", csv(["x,y", "1,2"]))
    crawl(service, delete_behavior=behavior)
    gone.unlink()
    run = crawl(service)
    names = tables(service)
    if expect == "deleted":
        assert run.tables_deleted == ["gone"] and "gone" not in names
    elif expect == "deprecated":
        assert run.tables_deprecated == ["gone"]
        stamp = int(names["gone"].parameters["DEPRECATED_BY_CRAWLER"])
        # whole milliseconds, cut down like Glue's: compare with the start cut down too
        assert int(run.start_time * 1000) <= stamp <= (run.end_time or 0) * 1000
    else:
        assert "gone" in names and "DEPRECATED_BY_CRAWLER" not in names["gone"].parameters
        assert any("gone" in line for line in run.log)
    assert "keep" in names


def test_vanished_partitions_are_dropped_with_delete_from_database(
    service: CrawlerService, bucket_dir: Path
) -> None:
    write(bucket_dir / "t" / "dt=1" / "a.json", '{"a": 1}\n')
    old = write(bucket_dir / "t" / "dt=2" / "a.json", '{"a": 2}\n')
    crawl(service, "s3://data/t/", delete_behavior="DELETE_FROM_DATABASE")
    old.unlink()
    run = crawl(service)
    assert run.partitions_deleted == 1
    assert partitions(service, "t") == [["1"]]


def test_tables_of_other_crawlers_and_users_are_left_alone(
    service: CrawlerService, bucket_dir: Path
) -> None:
    service.catalog.create_table(Table("db", "manual", location="s3://data/manual/"))
    write(bucket_dir / "manual" / "a.json", '{"a": 1}\n')
    write(bucket_dir / "t" / "a.csv", csv(["x,y", "1,2"]))
    run = crawl(service, delete_behavior="DELETE_FROM_DATABASE")
    assert run.tables_created == ["t"]
    assert tables(service)["manual"].columns == []  # a hand-written table is not rewritten
    assert any("manual" in line for line in run.log)
    (bucket_dir / "t" / "a.csv").unlink()
    crawl(service)
    assert "manual" in tables(service) and "t" not in tables(service)


def test_incremental_crawl_adds_new_folders_only(service: CrawlerService, bucket_dir: Path) -> None:
    write(bucket_dir / "t" / "dt=1" / "a.json", '{"a": 1}\n')
    write(bucket_dir / "w" / "a.csv", csv(["p,q", "1,2"]))
    crawl(
        service,
        update_behavior="LOG",
        delete_behavior="LOG",
        recrawl_behavior="CRAWL_NEW_FOLDERS_ONLY",
    )
    # a new file in a known folder is not read; a new folder becomes a partition unread
    write(bucket_dir / "t" / "dt=1" / "b.json", '{"zzz": 1}\n')
    write(bucket_dir / "t" / "dt=2" / "a.json", '{"a": 2, "new": 1}\n')
    write(bucket_dir / "u" / "a.csv", csv(["p,q", "1,2"]))
    (bucket_dir / "t" / "dt=3").mkdir()
    (bucket_dir / "t" / "dt=3" / "bad.parquet").write_bytes(b"PAR1 broken")
    run = crawl(service)
    assert run.files_read == 3  # dt=2/a.json, dt=3/bad.parquet and u/a.csv
    assert run.partitions_added == 1 and run.tables_created == ["u"]
    assert partitions(service, "t") == [["1"], ["2"]]
    assert columns(tables(service)["t"]) == [("a", "int")]
    assert any("new (new)" in line and "UpdateBehavior LOG" in line for line in run.log)
    assert [s.uri for s in run.skipped] == ["s3://data/t/dt=3/bad.parquet"]
    assert crawl(service).files_read == 0


# -- DynamoDB exports ------------------------------------------------------------------------


def _export(root: Path, export_id: str, lines: list[str], ext: str) -> None:
    base = root / "AWSDynamoDB" / export_id
    write(base / "data" / f"part1.{ext}", "".join(x + "\n" for x in lines), "gzip")
    write(base / "manifest-summary.json", json.dumps({"itemCount": len(lines)}))
    write(base / "manifest-files.json", json.dumps({"itemCount": len(lines)}) + "\n")
    write(base / "_started", "")
    write(base / "manifest-summary.checksum", "abc")
    write(base / "data" / "empty.json", "", "gzip")  # an empty DynamoDB partition


def test_dynamodb_json_export_becomes_item_struct(
    service: CrawlerService, bucket_dir: Path
) -> None:
    _export(
        bucket_dir / "orders",
        "0123-abc",
        [
            json.dumps({"Item": {"id": {"N": "1"}, "name": {"S": "a"}}}),
            json.dumps({"Item": {"id": {"N": "2"}, "tags": {"SS": ["x"]}}}),
        ],
        "json",
    )
    run = crawl(service)
    assert run.tables_created == ["orders"]
    assert [s.reason for s in run.skipped] == ["empty file (gzip stream with no data)"]
    t = tables(service)["orders"]
    assert t.location == "s3://data/orders/AWSDynamoDB/0123-abc/data/"
    assert columns(t) == [
        ("item", "struct<id:struct<n:string>,name:struct<s:string>,tags:struct<ss:array<string>>>")
    ]
    assert t.serde_library == "org.openx.data.jsonserde.JsonSerDe"
    assert t.parameters["compressionType"] == "gzip"
    assert t.partition_keys == []


def test_dynamodb_ion_export_uses_path_extractors(
    service: CrawlerService, bucket_dir: Path
) -> None:
    _export(
        bucket_dir,
        "0456-def",
        ["$ion_1_0 {Item:{id:1.,Amount:2.5}}", '$ion_1_0 {Item:{id:2.,Note:"n"}}'],
        "ion",
    )
    crawl(service, "s3://data/AWSDynamoDB/")
    t = next(iter(tables(service).values()))
    assert t.location == "s3://data/AWSDynamoDB/0456-def/data/"
    assert columns(t) == [("id", "decimal(1,0)"), ("amount", "decimal(2,1)"), ("note", "string")]
    assert t.serde_library == "com.amazon.ionhiveserde.IonHiveSerDe"
    assert t.serde_parameters["ion.amount.path_extractor"] == "(Item Amount)"
    assert t.serde_parameters["ion.id.path_extractor"] == "(Item id)"


def test_parquet_partitions_with_pyarrow_dataset(service: CrawlerService, bucket_dir: Path) -> None:
    table = pa.table({"k": ["a", "b", "a"], "v": [1, 2, 3]})
    pq.write_to_dataset(table, str(bucket_dir / "ds"), partition_cols=["k"])
    crawl(service, "s3://data/ds/")
    t = tables(service)["ds"]
    assert columns(t) == [("v", "bigint")]
    assert [k.name for k in t.partition_keys] == ["k"]
    assert partitions(service, "ds") == [["a"], ["b"]]


def test_crawl_over_s3(s3_config: LakeConfig, bucket: str) -> None:
    from lakebox.catalog.model import Database
    from lakebox.storage import Storage

    storage = Storage(s3_config)
    storage.ensure_bucket(bucket)
    storage.write_bytes(f"s3://{bucket}/t/dt=1/a.json", b'{"a": 1}\n')
    storage.write_bytes(
        f"s3://{bucket}/t/dt=2/a.json.gz", __import__("gzip").compress(b'{"a": 2}\n')
    )
    svc = CrawlerService(s3_config)
    svc.catalog.create_database(Database("db"))
    svc.create_crawler(Crawler("c", "db", [Target(f"s3://{bucket}/t/")]))
    run = svc.start_crawler("c")
    assert run.state == "SUCCEEDED", run.error
    # plain and gzip files differ in compression: Glue keeps them in separate tables
    assert len(run.tables_created) == 2


def test_csv_folders_whose_columns_are_in_another_order_stay_apart(
    service: CrawlerService, bucket_dir: Path
) -> None:
    write(bucket_dir / "t" / "a" / "x.csv", csv(["id,name,price", "1,a,2.5"]))
    write(bucket_dir / "t" / "b" / "x.csv", csv(["id,price,name", "1,2.5,a"]))
    run = crawl(service, "s3://data/t/")
    assert sorted(run.tables_created) == ["a", "b"]
    assert [c.name for c in tables(service)["b"].columns] == ["id", "price", "name"]


def test_csv_folders_with_appended_columns_share_a_table(
    service: CrawlerService, bucket_dir: Path
) -> None:
    write(bucket_dir / "t" / "p=1" / "x.csv", csv(["id,name,price,qty", "1,a,2.5,1"]))
    write(bucket_dir / "t" / "p=2" / "x.csv", csv(["id,name,price,qty,note", "1,a,2.5,1,n"]))
    run = crawl(service, "s3://data/t/")
    assert run.tables_created == ["t"]
    assert [c.name for c in tables(service)["t"].columns] == ["id", "name", "price", "qty", "note"]


def test_tables_that_cannot_be_written_fail_the_run_with_a_log(
    service: CrawlerService, bucket_dir: Path
) -> None:
    write(bucket_dir / "t1" / "a.json", '{"a": 1}\n')
    write(bucket_dir / "t2" / "a.csv", csv(["x,y", "1,2"]))
    service.create_crawler(Crawler("c", "db", [Target("s3://data/")]))

    def drop_database(p: Progress) -> None:
        if p.phase == "writing" and p.done == 1 and p.total == 2:
            service.catalog.drop_database("db", cascade=True)

    run = service.start_crawler("c", progress=drop_database)
    assert run.state == "FAILED"
    assert run.tables_created == ["t1"]
    assert "1 table(s) could not be written: s3://data/t2/" in (run.error or "")
    assert any(line.startswith("table at s3://data/t2/: not written") for line in run.log)


def test_a_file_as_include_path_is_reported(service: CrawlerService, bucket_dir: Path) -> None:
    write(bucket_dir / "t" / "a.json", '{"a": 1}\n')
    run = crawl(service, "s3://data/t/a.json")
    assert run.tables_created == []
    assert [s.uri for s in run.skipped] == ["s3://data/t/a.json"]
    assert "single file" in run.skipped[0].reason
