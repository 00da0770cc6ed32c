"""The query service over a real lake: executions, result files, paging, workgroups,
scan cutoffs, cancel, concurrency, idempotency, reuse and restart."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from engine_params import SPARK_TEST_MASTER
from lakebox.catalog.visibility import Visibility
from lakebox.config import LakeConfig
from lakebox.engine.duckdb import compaction as compaction_module
from lakebox.errors import AlreadyExistsError, InvalidRequestError
from lakebox.principal import LOCAL_ADMIN, Principal
from lakebox.query.model import MB, QueryExecution, query_cost_usd
from lakebox.query.service import QueryService
from lakebox.query.store import QueryStore
from lakebox.session import Lake

SLOW = (
    "SELECT count(*) FROM UNNEST(sequence(1, 100000)) AS a(x) "
    "CROSS JOIN UNNEST(sequence(1, 100000)) AS b(y) WHERE (x + y) % 7 = 3"
)


def _noise(i: int) -> str:
    """Incompressible text, so a column's share of the bytes follows its width."""
    return hashlib.sha256(str(i).encode()).hexdigest()


@pytest.fixture
def config(lake_home: Path, engine_name: str) -> LakeConfig:
    """The test's lake on each engine (``engine_params``): every test here runs on both."""
    return LakeConfig.from_env(
        home=lake_home, storage="local", engine=engine_name, spark_master=SPARK_TEST_MASTER
    )


@pytest.fixture
def lake(config: LakeConfig) -> Iterator[Lake]:
    home = config.home
    path = home / "data" / "wide" / "dt=2024-01-01" / "part-0.parquet"
    path.parent.mkdir(parents=True)
    n = 20000
    pq.write_table(
        pa.table({"id": pa.array(range(n), pa.int64()), "payload": [_noise(i) for i in range(n)]}),
        path,
    )
    path2 = home / "data" / "wide" / "dt=2024-01-02" / "part-0.parquet"
    path2.parent.mkdir(parents=True)
    pq.write_table(
        pa.table({"id": pa.array(range(n), pa.int64()), "payload": [_noise(-i) for i in range(n)]}),
        path2,
    )
    lake = Lake(config)
    s = lake.session()
    s.sql(
        "CREATE EXTERNAL TABLE wide (id bigint, payload string) PARTITIONED BY (dt string) "
        "STORED AS PARQUET LOCATION 's3://data/wide/'"
    )
    s.sql("MSCK REPAIR TABLE wide")
    try:
        yield lake
    finally:
        lake.close()  # a Spark lake's hold on the shared session


@pytest.fixture
def service(lake: Lake) -> Iterator[QueryService]:
    svc = QueryService(lake)
    yield svc
    svc.close()


def test_execution_lifecycle_and_statistics(service: QueryService) -> None:
    qid = service.start_query_execution("SELECT count(*) AS n FROM wide")
    qe = service.wait(qid, timeout=300)  # a lake's first Spark query, on a busy machine
    assert qe.state == "SUCCEEDED"
    api = qe.to_api()
    assert api["StatementType"] == "DML"
    stats = api["Statistics"]
    assert stats["DataScannedInBytes"] > 0
    assert stats["TotalExecutionTimeInMillis"] >= stats["EngineExecutionTimeInMillis"] >= 0
    assert stats["QueryQueueTimeInMillis"] >= 0
    assert api["Status"]["CompletionDateTime"] >= api["Status"]["SubmissionDateTime"]


def test_select_results_page_with_header_first(service: QueryService) -> None:
    qid = service.start_query_execution(
        "SELECT id, payload FROM wide WHERE dt = '2024-01-01' AND id < 2500 ORDER BY id"
    )
    assert service.wait(qid).state == "SUCCEEDED"
    first = service.get_query_results(qid)
    rows = first["ResultSet"]["Rows"]
    assert len(rows) == 1000
    assert [d["VarCharValue"] for d in rows[0]["Data"]] == ["id", "payload"]
    assert rows[1]["Data"][0] == {"VarCharValue": "0"}
    info = first["ResultSet"]["ResultSetMetadata"]["ColumnInfo"]
    assert [(c["Name"], c["Type"]) for c in info] == [("id", "bigint"), ("payload", "varchar")]
    second = service.get_query_results(qid, first["NextToken"])
    third = service.get_query_results(qid, second["NextToken"])
    assert "NextToken" not in third
    total = len(rows) + len(second["ResultSet"]["Rows"]) + len(third["ResultSet"]["Rows"])
    assert total == 2501
    with pytest.raises(InvalidRequestError, match="MaxResults"):
        service.get_query_results(qid, max_results=1001)


def test_result_file_is_rfc4180_csv_with_metadata(service: QueryService, lake: Lake) -> None:
    qid = service.start_query_execution(
        "SELECT 'a,b' AS x, 'say \"hi\"' AS y, NULL AS z, '' AS e, 1.0 AS d, "
        "TIMESTAMP '2024-01-02 03:04:05.678' AS ts"
    )
    qe = service.wait(qid)
    assert qe.output_location == f"s3://lakebox-query-results/{qid}.csv"
    text = lake.storage.read_bytes(qe.output_location).decode()
    assert text.splitlines()[1] == '"a,b","say ""hi""",,"","1.0","2024-01-02 03:04:05.678"'
    assert list(csv.reader(io.StringIO(text)))[1][:2] == ["a,b", 'say "hi"']
    meta = json.loads(lake.storage.read_bytes(qe.output_location + ".metadata"))
    assert [c["Name"] for c in meta["columnInfo"]] == ["x", "y", "z", "e", "d", "ts"]
    page = service.get_query_results(qid)["ResultSet"]["Rows"][1]["Data"]
    assert page[2] == {} and page[3] == {"VarCharValue": ""}


def test_ddl_results_are_text_files_and_free(service: QueryService, lake: Lake) -> None:
    qe, _ = service.run("SHOW TABLES")
    assert qe.statement_type == "DDL"
    assert qe.output_location.endswith(f"{qe.query_execution_id}.txt")
    assert lake.storage.read_bytes(qe.output_location) == b"wide\n"
    assert qe.cost_usd == 0.0 and qe.data_scanned_bytes == 0


def test_results_are_readable_by_id_after_a_restart(lake: Lake) -> None:
    first = QueryService(lake)
    qe, _ = first.run("SELECT max(id) AS m FROM wide")
    first.close()
    reopened = Lake(lake.config)
    again = QueryService(reopened)
    assert again.get_query_execution(qe.query_execution_id).state == "SUCCEEDED"
    rows = again.get_query_results(qe.query_execution_id)["ResultSet"]["Rows"]
    assert rows[1]["Data"] == [{"VarCharValue": "19999"}]
    again.close()
    reopened.close()


def test_pruning_and_projection_lower_data_scanned(service: QueryService) -> None:
    everything, _ = service.run("SELECT * FROM wide")
    one_column, _ = service.run("SELECT id FROM wide")
    one_partition, _ = service.run("SELECT * FROM wide WHERE dt = '2024-01-02'")
    assert one_column.data_scanned_bytes < everything.data_scanned_bytes / 3
    assert one_partition.data_scanned_bytes < everything.data_scanned_bytes * 0.6


@pytest.mark.parametrize(
    ("scanned", "kind", "state", "billed_mb"),
    [
        (1, "DML", "SUCCEEDED", 10),
        (10 * MB + 1, "DML", "SUCCEEDED", 11),
        (50 * MB, "DML", "CANCELLED", 50),
        (50 * MB, "DML", "FAILED", 0),
        (50 * MB, "DDL", "SUCCEEDED", 0),
    ],
)
def test_cost_is_five_dollars_per_tb_rounded_up_to_the_mb(
    scanned: int, kind: str, state: str, billed_mb: int
) -> None:
    assert query_cost_usd(scanned, kind, state) == pytest.approx(billed_mb * 5 / (1024 * 1024))


def test_workgroup_usage_sums_queries(service: QueryService) -> None:
    service.create_work_group("analysts", output_location="s3://results/analysts/")
    a, _ = service.run("SELECT count(*) FROM wide", workgroup="analysts")
    b, _ = service.run("SHOW TABLES", workgroup="analysts")
    usage = service.usage("analysts")
    assert usage.queries == 2
    assert usage.bytes_scanned == a.data_scanned_bytes
    assert usage.cost_usd == pytest.approx(a.cost_usd)
    assert a.output_location.startswith("s3://results/analysts/")
    assert b.output_location.startswith("s3://results/analysts/")


def test_enforced_workgroup_overrides_client_output_location(service: QueryService) -> None:
    service.create_work_group("locked", output_location="s3://locked/", enforce=True)
    qe, _ = service.run("SELECT 1", workgroup="locked", output_location="s3://elsewhere/")
    assert qe.output_location.startswith("s3://locked/")
    service.create_work_group("open", output_location="s3://open/")
    qe, _ = service.run("SELECT 1", workgroup="open", output_location="s3://mine/")
    assert qe.output_location.startswith("s3://mine/")


def test_workgroup_rules(service: QueryService) -> None:
    with pytest.raises(InvalidRequestError, match="at least"):
        service.create_work_group("tiny", bytes_scanned_cutoff=1024)
    service.create_work_group("off", state="DISABLED")
    with pytest.raises(InvalidRequestError, match="disabled"):
        service.start_query_execution("SELECT 1", workgroup="off")
    with pytest.raises(AlreadyExistsError):
        service.create_work_group("off")
    with pytest.raises(InvalidRequestError, match="primary"):
        service.delete_work_group("primary")


def create_big_csv_table(lake: Lake) -> None:
    """Table ``big``: one ~30 MB delimited text file, three times the smallest cutoff."""
    path = lake.config.home / "data" / "big" / "big.csv"
    path.parent.mkdir(parents=True)
    with path.open("w") as fh:
        line = "x" * 100 + "\n"
        for i in range(300_000):
            fh.write(f"{i},{line}")
    lake.session().sql(
        "CREATE EXTERNAL TABLE big (id int, s string) "
        "ROW FORMAT DELIMITED FIELDS TERMINATED BY ',' LOCATION 's3://data/big/'"
    )


@pytest.mark.parametrize("compaction", ["off", "auto"])
def test_scan_cutoff_cancels_a_query_on_a_multi_mb_file(
    service: QueryService, lake: Lake, compaction: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With compaction off the engine reads the 30 MB file and the progress monitor stops it
    while running; served from a compacted copy, the original bytes still count."""
    monkeypatch.setenv("LAKEBOX_COMPACTION", compaction)
    create_big_csv_table(lake)
    service.create_work_group("capped", bytes_scanned_cutoff=10 * MB)
    qe, _ = service.run("SELECT count(*) FROM big WHERE s LIKE '%y%'", workgroup="capped")
    assert qe.state == "CANCELLED"
    assert "BytesScannedCutoffPerQuery" in (qe.state_change_reason or "")
    ok, _ = service.run("SELECT count(*) FROM big WHERE s LIKE '%y%'")
    assert ok.state == "SUCCEEDED" and ok.data_scanned_bytes > 10 * MB


def test_cancel_really_stops_the_engine(service: QueryService) -> None:
    qid = service.start_query_execution(SLOW)
    deadline = time.monotonic() + 30
    while service.get_query_execution(qid).state != "RUNNING":
        assert time.monotonic() < deadline
        time.sleep(0.02)
    time.sleep(0.2)
    service.stop_query_execution(qid)
    qe = service.wait(qid, timeout=30)
    assert qe.state == "CANCELLED"
    assert qe.state_change_reason == "Query cancelled by user"
    assert service.wait(qid, timeout=1).done


def test_concurrency_limit_queues_the_extra_query(lake: Lake) -> None:
    svc = QueryService(lake, max_concurrency=1)
    try:
        first = svc.start_query_execution(SLOW)
        deadline = time.monotonic() + 30
        while svc.get_query_execution(first).state != "RUNNING":
            assert time.monotonic() < deadline
            time.sleep(0.02)
        second = svc.start_query_execution("SELECT 42")
        time.sleep(0.5)
        assert svc.get_query_execution(second).state == "QUEUED"
        svc.stop_query_execution(first)
        done = svc.wait(second, timeout=120)  # Spark's cancelled tasks stop in seconds
        assert done.state == "SUCCEEDED"
        assert done.queue_ms >= 400
    finally:
        svc.close()


def test_client_request_token_makes_start_idempotent(service: QueryService) -> None:
    token = "t" * 40
    a = service.start_query_execution("SELECT 1", client_request_token=token)
    b = service.start_query_execution("SELECT 1", client_request_token=token)
    assert a == b
    with pytest.raises(InvalidRequestError, match="IdempotentParameterMismatch"):
        service.start_query_execution("SELECT 2", client_request_token=token)


def test_list_and_batch_get(service: QueryService) -> None:
    ids = [service.run(f"SELECT {i}")[0].query_execution_id for i in range(3)]
    listed, token = service.list_query_executions(max_results=2)
    assert listed == ids[::-1][:2] and token is not None
    rest, token2 = service.list_query_executions(max_results=2, next_token=token)
    assert rest == [ids[0]] and token2 is None
    found, missing = service.batch_get_query_execution([ids[0], "nope"])
    assert [q.query_execution_id for q in found] == [ids[0]]
    assert missing[0]["QueryExecutionId"] == "nope"


def test_result_reuse_until_the_data_changes(service: QueryService, lake: Lake) -> None:
    q = "SELECT count(*) FROM wide WHERE dt = '2024-01-01'"
    first = service.wait(service.start_query_execution(q, result_reuse_max_age_minutes=60))
    again = service.wait(service.start_query_execution(q, result_reuse_max_age_minutes=60))
    assert again.reused_previous_result and again.output_location == first.output_location
    assert again.data_scanned_bytes == 0
    path = lake.config.home / "data" / "wide" / "dt=2024-01-01" / "part-1.parquet"
    pq.write_table(pa.table({"id": pa.array([1], pa.int64()), "payload": ["new"]}), path)
    third = service.wait(service.start_query_execution(q, result_reuse_max_age_minutes=60))
    assert not third.reused_previous_result
    page = service.get_query_results(third.query_execution_id)
    assert page["ResultSet"]["Rows"][1]["Data"] == [{"VarCharValue": "20001"}]


ALICE = Principal("111122223333", "arn:aws:iam::111122223333:user/alice")


def test_executions_remember_who_started_them(service: QueryService) -> None:
    mine = service.wait(service.start_query_execution("SELECT 1"))
    hers = service.wait(service.start_query_execution("SELECT 1", principal=ALICE))
    assert mine.principal_arn == LOCAL_ADMIN.arn
    assert hers.principal_arn == ALICE.arn
    assert service.get_query_execution(hers.query_execution_id).principal_arn == ALICE.arn
    row = service.store._con().execute(
        "SELECT principal FROM executions WHERE id=?", (hers.query_execution_id,)
    )
    assert row.fetchone()[0] == ALICE.arn


def test_one_principals_result_is_never_reused_for_another(service: QueryService) -> None:
    q = "SELECT count(*) FROM wide WHERE dt = '2024-01-01'"
    service.wait(service.start_query_execution(q, result_reuse_max_age_minutes=60))
    hers = service.wait(
        service.start_query_execution(q, result_reuse_max_age_minutes=60, principal=ALICE)
    )
    assert hers.state == "SUCCEEDED" and not hers.reused_previous_result
    again = service.wait(
        service.start_query_execution(q, result_reuse_max_age_minutes=60, principal=ALICE)
    )
    assert again.reused_previous_result and again.output_location == hers.output_location


class _Versioned(Visibility):
    def __init__(self) -> None:
        self.version = 0

    def policy_version(self) -> int:
        return self.version


def test_results_are_not_reused_across_policy_versions(lake: Lake) -> None:
    policy = _Versioned()
    service = QueryService(lake, visibility=policy)
    try:
        q = "SELECT count(*) FROM wide WHERE dt = '2024-01-01'"
        first = service.wait(service.start_query_execution(q, result_reuse_max_age_minutes=60))
        assert first.policy_version == 0
        policy.version = 1
        later = service.wait(service.start_query_execution(q, result_reuse_max_age_minutes=60))
        assert later.state == "SUCCEEDED" and not later.reused_previous_result
        assert later.policy_version == 1
    finally:
        service.close()


def test_a_client_request_token_is_not_shared_between_principals(service: QueryService) -> None:
    token = "t" * 32
    service.start_query_execution("SELECT 1", client_request_token=token)
    with pytest.raises(InvalidRequestError, match="IdempotentParameterMismatch"):
        service.start_query_execution("SELECT 1", client_request_token=token, principal=ALICE)


def test_a_store_from_before_principals_gains_the_column(tmp_path: Path) -> None:
    path = tmp_path / "queries.sqlite"
    old = sqlite3.connect(path)
    old.executescript(
        "CREATE TABLE executions (id TEXT PRIMARY KEY, token TEXT, workgroup TEXT NOT NULL, "
        "submitted REAL NOT NULL, state TEXT NOT NULL, doc TEXT NOT NULL);"
        "CREATE TABLE workgroups (name TEXT PRIMARY KEY, doc TEXT NOT NULL);"
        "PRAGMA user_version = 1;"
    )
    doc = QueryExecution("q1", "SELECT 1", "primary", "default", "s3://r/q1.csv").to_dict()
    del doc["principal_arn"], doc["policy_version"]
    old.execute(
        "INSERT INTO executions VALUES ('q1', NULL, 'primary', 0, 'SUCCEEDED', ?)",
        (json.dumps(doc),),
    )
    old.commit()
    old.close()
    store = QueryStore(path)
    assert store.get("q1").principal_arn == LOCAL_ADMIN.arn
    columns = [r[1] for r in store._con().execute("PRAGMA table_info(executions)")]
    assert "principal" in columns


def test_failed_query_records_the_reason(service: QueryService) -> None:
    qe, _ = service.run("SELECT nosuch FROM wide")
    assert qe.state == "FAILED"
    assert "nosuch" in (qe.state_change_reason or "")
    with pytest.raises(InvalidRequestError, match="did not succeed"):
        service.get_query_results(qe.query_execution_id)


def test_executions_of_a_dead_process_are_marked_failed(lake: Lake) -> None:
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    svc = QueryService(lake)
    ghost = QueryExecution(
        "ghost-id",
        "SELECT 1",
        "primary",
        "default",
        "s3://lakebox-query-results/ghost-id.csv",
        state="RUNNING",
        pid=int(dead.stdout),
    )
    svc.store.insert(ghost)
    svc.close()
    reopened = Lake(lake.config)
    fresh = QueryService(reopened)
    qe = fresh.get_query_execution("ghost-id")
    assert qe.state == "FAILED" and "exited" in (qe.state_change_reason or "")
    assert os.getpid() != ghost.pid
    fresh.close()
    reopened.close()


def test_writes_are_never_answered_from_a_reused_result(service: QueryService) -> None:
    # wide holds ids 0..19999 in each of its two partitions
    service.run("CREATE TABLE copy WITH (format = 'PARQUET') AS SELECT id FROM wide WHERE id < 3")
    q = "INSERT INTO copy SELECT id FROM wide WHERE id < 2"
    for _ in range(2):
        qe = service.wait(service.start_query_execution(q, result_reuse_max_age_minutes=60))
        assert qe.state == "SUCCEEDED" and not qe.reused_previous_result
    counted, _ = service.run("SELECT count(*) AS n FROM copy")
    page = service.get_query_results(counted.query_execution_id)
    assert page["ResultSet"]["Rows"][1]["Data"] == [{"VarCharValue": str(3 * 2 + 2 * (2 * 2))}]


@pytest.mark.parametrize(
    "statement",
    [
        "CREATE TABLE ctas_copy WITH (format = 'PARQUET') AS SELECT * FROM wide",
        "UNLOAD (SELECT * FROM wide) TO 's3://unloaded/wide/' WITH (format = 'PARQUET')",
    ],
)
def test_writes_report_the_data_they_scanned(service: QueryService, statement: str) -> None:
    everything, _ = service.run("SELECT * FROM wide")
    qe, _ = service.run(statement)
    assert qe.state == "SUCCEEDED", qe.state_change_reason
    assert qe.data_scanned_bytes == everything.data_scanned_bytes


@pytest.mark.parametrize(
    "compaction",
    # compacted copies are the DuckDB engine's (the Spark engine has no ``copies``)
    ["off", pytest.param("auto", marks=pytest.mark.engine_gap("spark", AttributeError))],
)
def test_reused_plan_still_reports_and_limits_data_scanned(
    service: QueryService, lake: Lake, compaction: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A plan kept from an unlimited run is reused under a capped workgroup: the same data
    scanned is reported, and the cap still cancels the query."""
    monkeypatch.setenv("LAKEBOX_COMPACTION", compaction)
    create_big_csv_table(lake)
    sql = "SELECT count(*) FROM big WHERE s LIKE '%y%'"
    if compaction == "auto":
        # a plan that reads files a queued copy will serve is not kept: let the files
        # settle, read them enough for the copy to be queued, and wait for it
        time.sleep(compaction_module.RACY_SECONDS + 0.1)
        for _ in range(compaction_module.BUILD_AFTER_READS):
            service.run(sql)
        assert lake.engine.copies.wait_idle(120)
    hits = lake.plans.hits
    first, _ = service.run(sql)
    again, _ = service.run(sql)
    assert first.state == again.state == "SUCCEEDED"
    assert lake.plans.hits == hits + 1
    assert again.data_scanned_bytes == first.data_scanned_bytes > 10 * MB
    service.create_work_group("capped", bytes_scanned_cutoff=10 * MB)
    capped, _ = service.run(sql, workgroup="capped")
    assert lake.plans.hits == hits + 2
    assert capped.state == "CANCELLED"
    assert "BytesScannedCutoffPerQuery" in (capped.state_change_reason or "")


def test_non_finite_doubles_are_written_as_athena_writes_them(service: QueryService) -> None:
    qe, _ = service.run("SELECT ln(0) AS a, -ln(0) AS b, sqrt(-1) AS c", "default")
    assert qe.state == "SUCCEEDED", qe.state_change_reason
    rows = service.get_query_results(qe.query_execution_id)["ResultSet"]["Rows"]
    assert [d.get("VarCharValue") for d in rows[1]["Data"]] == ["-Infinity", "Infinity", "NaN"]


def test_statement_nested_too_deeply_fails_as_a_user_error(lake_home: Path) -> None:
    from typer.testing import CliRunner

    from lakebox.cli import app

    sql = "SELECT " + "(" * 3000 + "1" + ")" * 3000
    res = CliRunner().invoke(app, ["sql", sql, "--home", str(lake_home)])
    assert res.exit_code == 1
    assert "the statement is nested too deeply to analyse" in res.output
    assert "internal error" not in res.output


# the service's memory bound, not the engine's: a thousand queries on Spark take minutes
@pytest.mark.parametrize("engine_name", ["duckdb"])
def test_a_thousand_queries_keep_a_bounded_set_of_results_in_memory(
    service: QueryService,
) -> None:
    """A long-running server answers query after query: memory keeps only the most recent
    results (``RESULTS_KEPT``), while every result stays readable (and pageable) from its
    result file."""
    from lakebox.query.service import RESULTS_KEPT

    first = service.start_query_execution("SELECT x FROM UNNEST(sequence(1, 1500)) AS t(x)")
    assert service.wait(first, timeout=60).state == "SUCCEEDED"
    for i in range(1000):
        qe, result = service.run(f"SELECT {i} AS i")
        assert qe.state == "SUCCEEDED"
        assert result is not None and result.fetchall() == [(i,)]
        assert len(service._results) <= RESULTS_KEPT
    assert service.result(first) is None  # forgotten in memory...
    page = service.get_query_results(first)  # ...but still read, page by page, from its file
    rest = service.get_query_results(first, page["NextToken"])
    assert len(page["ResultSet"]["Rows"]) + len(rest["ResultSet"]["Rows"]) == 1501
    assert not service._pinned
