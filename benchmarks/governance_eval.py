"""Lake Formation's evaluation cost: what the planner pays per query to ask
``LakeFormationService`` (``active``, ``table_permissions``, ``table_view``), warm and
right after a grant changed the policy (docs/governance.md, "Cost").

    python benchmarks/governance_eval.py [--tables 200] [--principals 50] [--queries 2000]

A fresh lake in a temporary folder: tables of 20 columns, LF-tags on the database, tables
and some columns, tag-policy grants, column grants and data cells filters for each
principal; the questions rotate over principals and tables as a mixed workload would.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from lakebox.catalog.model import Column, Database, Table
from lakebox.config import LakeConfig
from lakebox.governance.model import (
    IAM_ALLOWED_PRINCIPALS,
    DataCellsFilter,
    DataLakeSettings,
    Resource,
    check_expression,
)
from lakebox.lakehouse import Lakehouse
from lakebox.principal import LOCAL_ADMIN, Principal

A = "000000000000"


def build(home: Path, tables: int, principals: int) -> tuple[Lakehouse, list[Principal]]:
    lake = Lakehouse.open(LakeConfig(home=home))
    lf = lake.lakeformation
    lf.put_settings(
        LOCAL_ADMIN,
        DataLakeSettings(create_database_default=(), create_table_default=()),
    )
    lake.catalog.create_database(Database("bench"))
    lf.note_created(LOCAL_ADMIN, "bench")
    lf.create_tag(LOCAL_ADMIN, "level", ["public", "internal", "secret"])
    lf.create_tag(LOCAL_ADMIN, "team", [f"t{i}" for i in range(10)])
    lf.add_tags(LOCAL_ADMIN, Resource("DATABASE", A, database="bench"), [("level", ["internal"])])
    for t in range(tables):
        cols = [Column(f"c{i}", "string" if i % 2 else "int") for i in range(20)]
        lake.catalog.create_table(Table("bench", f"t{t}", columns=cols, location=f"s3://b/t{t}/"))
        lf.note_created(LOCAL_ADMIN, "bench", f"t{t}")
        res = Resource("TABLE", A, database="bench", table=f"t{t}")
        lf.add_tags(LOCAL_ADMIN, res, [("team", [f"t{t % 10}"])])
        cres = Resource("TABLE_WITH_COLUMNS", A, database="bench", table=f"t{t}", columns=("c3",))
        lf.add_tags(LOCAL_ADMIN, cres, [("level", ["secret"])])
        lf.create_filter(
            LOCAL_ADMIN,
            DataCellsFilter("bench", f"t{t}", "f", "c0 > 10", None, ("c5",)),
        )
    people = [Principal(A, f"arn:aws:iam::{A}:user/p{i}") for i in range(principals)]
    for i, who in enumerate(people):
        expr = check_expression(
            [
                {"TagKey": "level", "TagValues": ["public", "internal"]},
                {"TagKey": "team", "TagValues": [f"t{i % 10}"]},
            ]
        )
        lf.grant(
            LOCAL_ADMIN,
            who.arn,
            Resource("LF_TAG_POLICY", A, resource_type="TABLE", expression=expr),
            ["SELECT", "DESCRIBE"],
        )
        t = (i * 7) % tables
        lf.grant(
            LOCAL_ADMIN,
            who.arn,
            Resource("DATA_CELLS_FILTER", A, database="bench", table=f"t{t}", name="f"),
            ["SELECT"],
        )
    return lake, people


def ask(lake: Lakehouse, who: Principal, table: Table) -> None:
    lf = lake.lakeformation
    if not lf.active:
        return
    if lf.table_permissions(who, table):
        try:
            lf.table_view(who, table)
        except Exception:
            pass


def main() -> None:
    p = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    p.add_argument("--tables", type=int, default=200)
    p.add_argument("--principals", type=int, default=50)
    p.add_argument("--queries", type=int, default=2000)
    args = p.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        lake, people = build(Path(tmp) / "lake", args.tables, args.principals)
        print(
            f"built {args.tables} tables, {args.principals} principals in "
            f"{time.perf_counter() - started:.1f} s"
        )
        try:
            tables = [lake.catalog.get_table("bench", f"t{t}") for t in range(args.tables)]
            cold = []
            for _ in range(5):
                lake.lakeformation.grant(
                    LOCAL_ADMIN,
                    IAM_ALLOWED_PRINCIPALS,
                    Resource("DATABASE", A, database="bench"),
                    ["DESCRIBE"],
                )
                t0 = time.perf_counter()
                ask(lake, people[0], tables[0])
                cold.append(time.perf_counter() - t0)
                lake.lakeformation.revoke(
                    LOCAL_ADMIN,
                    IAM_ALLOWED_PRINCIPALS,
                    Resource("DATABASE", A, database="bench"),
                    ["DESCRIBE"],
                )
            for i in range(args.queries):  # warm every (principal, table) once
                ask(lake, people[i % len(people)], tables[(i * 13) % len(tables)])
            warm = []
            for i in range(args.queries):
                who, table = people[i % len(people)], tables[(i * 13) % len(tables)]
                t0 = time.perf_counter()
                ask(lake, who, table)
                warm.append(time.perf_counter() - t0)
            warm.sort()
            print(
                f"warm, per query: median {statistics.median(warm) * 1e6:.0f} us, "
                f"p99 {warm[int(len(warm) * 0.99)] * 1e6:.0f} us"
            )
            print(
                f"first query after a policy change (policy rebuilt): "
                f"median {statistics.median(cold) * 1e3:.2f} ms"
            )
        finally:
            lake.close()


if __name__ == "__main__":
    main()
