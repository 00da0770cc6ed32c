"""The planner's engine-neutral plan: scans described without any engine, partition
predicates decided by whatever ``PartitionFilter`` it is given, and a principal in every
cache key and in what ``information_schema`` lists."""

from __future__ import annotations

import io
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from sqlglot import exp

from lakebox.catalog.model import Table
from lakebox.catalog.visibility import Visibility
from lakebox.config import LakeConfig
from lakebox.lakehouse import Lakehouse
from lakebox.principal import LOCAL_ADMIN, Principal
from lakebox.sql.dialect import parse_query
from lakebox.sql.planner import Planner


class Everything:
    """A partition filter that keeps every candidate and remembers what it was asked."""

    def __init__(self) -> None:
        self.asked: list[tuple[str, str, list[list[str]]]] = []

    def matching(
        self, table: Table, predicate: exp.Expression, values: list[list[str]]
    ) -> set[int]:
        self.asked.append((table.name, predicate.sql(), values))
        return set(range(len(values)))


class OnlyFirst(Everything):
    def matching(
        self, table: Table, predicate: exp.Expression, values: list[list[str]]
    ) -> set[int]:
        super().matching(table, predicate, values)
        return {0}


def _parquet(rows: dict[str, list[object]]) -> bytes:
    buf = io.BytesIO()
    pq.write_table(pa.table(rows), buf)
    return buf.getvalue()


@pytest.fixture
def lake(lake_home: Path) -> Lakehouse:
    lake = Lakehouse.open(LakeConfig.from_env(home=lake_home))
    for day in ("01", "02"):
        lake.storage.write_bytes(
            f"s3://lake/events/dt=2024-01-{day}/part-0.parquet", _parquet({"id": [1, 2]})
        )
    s = lake.session()
    s.sql(
        "CREATE EXTERNAL TABLE events (id bigint) PARTITIONED BY (dt string) "
        "STORED AS PARQUET LOCATION 's3://lake/events/'"
    )
    s.sql("MSCK REPAIR TABLE events")
    s.sql("CREATE EXTERNAL TABLE other (id bigint) STORED AS PARQUET LOCATION 's3://lake/o/'")
    return lake


def test_a_plan_describes_its_scans_without_an_engine(lake: Lakehouse) -> None:
    sql = "SELECT e.id FROM events AS e WHERE e.dt = '2024-01-02' AND e.id > 1"
    partitions = OnlyFirst()
    plan = Planner(lake.catalog, lake.storage, partitions, parse_query).plan(
        parse_query(sql), "default", sql
    )
    [scan] = plan.scans
    assert scan.kind == "files" and scan.table is not None and scan.table.name == "events"
    assert [c.name for c in scan.columns] == ["id"]
    assert partitions.asked == [("events", "dt = '2024-01-02'", [["2024-01-01"], ["2024-01-02"]])]
    assert scan.predicate is not None and scan.predicate.sql() == "dt = '2024-01-02'"
    [part] = scan.partitions
    assert part.values == ["2024-01-01"]  # what the filter said, nothing else decides
    assert part.location == "s3://lake/events/dt=2024-01-01/"
    assert [(f.uri.rsplit("/", 1)[-1], f.size > 0) for f in scan.files] == [
        ("part-0.parquet", True)
    ]
    assert "parquet" in (scan.serde or "").lower()
    assert plan.stats.partitions == 1 and plan.stats.files == 1
    # the tree names the placeholder, never the catalog table
    tables = {t.name for t in plan.tree.find_all(exp.Table)}
    assert tables == {scan.name}
    assert plan.schema == {scan.name: {"id": "bigint", "dt": "string"}}
    assert plan.reusable and plan.key is not None


def test_plan_keys_name_the_principal_and_the_policy_version(lake: Lakehouse) -> None:
    sql = "SELECT id FROM other"
    analyst = Principal("000000000000", "arn:aws:iam::000000000000:user/analyst")

    def key(principal: Principal, visibility: Visibility) -> tuple[object, ...] | None:
        planner = Planner(
            lake.catalog,
            lake.storage,
            Everything(),
            parse_query,
            principal=principal,
            visibility=visibility,
        )
        return planner.plan(parse_query(sql), "default", sql).key

    class Stricter(Visibility):
        def policy_version(self) -> int:
            return 7

    admin = key(LOCAL_ADMIN, Visibility())
    assert admin is not None and LOCAL_ADMIN.key in admin
    assert key(analyst, Visibility()) != admin
    assert key(LOCAL_ADMIN, Stricter()) != admin


def test_information_schema_is_an_inline_scan_of_what_the_principal_sees(
    lake: Lakehouse,
) -> None:
    class HideOther(Visibility):
        def tables(self, principal: Principal, tables: object) -> list[Table]:
            return [t for t in super().tables(principal, tables) if t.name != "other"]  # type: ignore[arg-type]

    sql = "SELECT table_name FROM information_schema.tables"
    planner = Planner(lake.catalog, lake.storage, Everything(), parse_query, visibility=HideOther())
    plan = planner.plan(parse_query(sql), "default", sql)
    [scan] = plan.scans
    assert scan.kind == "inline" and scan.rows is not None
    assert scan.rows.column("table_name").to_pylist() == ["events"]
    assert plan.key is None and not plan.reusable

    lake.visibility = HideOther()
    names = lake.session().sql("SELECT table_name FROM information_schema.columns").fetchall()
    assert {n for (n,) in names} == {"events"}


def test_a_plan_kept_for_one_principal_does_not_serve_another(lake: Lakehouse) -> None:
    analyst = Principal("000000000000", "arn:aws:iam::000000000000:user/analyst")
    sql = "SELECT count(*) FROM events"
    assert lake.session().sql(sql).fetchall() == [(4,)]
    assert lake.session().sql(sql).fetchall() == [(4,)]
    assert lake.plans.hits == 1
    assert lake.session(principal=analyst).sql(sql).fetchall() == [(4,)]
    assert lake.plans.hits == 1  # planned again for the analyst
    assert lake.session(principal=analyst).sql(sql).fetchall() == [(4,)]
    # its own kept plan serves it, the plan's access checks asked again (docs/identity.md,
    # "What a query needs")
    assert lake.plans.hits == 2
    assert lake.session().sql(sql).fetchall() == [(4,)]
    assert lake.plans.hits == 3


def test_the_planner_knows_no_engine() -> None:
    """It resolves, prunes and lists: no engine, no format reader, no translation."""
    import ast

    import lakebox.sql.plan
    import lakebox.sql.planner

    for module in (lakebox.sql.planner, lakebox.sql.plan):
        tree = ast.parse(Path(str(module.__file__)).read_text())
        imported = {
            alias.name
            for node in ast.walk(tree)
            if isinstance(node, ast.Import | ast.ImportFrom)
            for alias in node.names
        } | {node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
        assert not {"duckdb", "reader_for", "ReadContext", "to_duckdb"} & imported
        assert not any(name.startswith("lakebox.engine") for name in imported)
