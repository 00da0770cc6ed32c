"""The Trino documentation's examples (``tests/conformance``) on one engine, outside
pytest: the pass rate, and each failure with its answer, for comparing the engines.

    .venv/bin/python tests/engine/spark/conformance_rate.py spark [failures.tsv]

Runs every example through the query service of a fresh lake, as
``tests/conformance/test_trino.py`` does, and prints ``passed/total``."""

from __future__ import annotations

import re
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from conformance.corpus import EMPTY, NULL, sql_pages
from lakebox.config import LakeConfig
from lakebox.lakehouse import Lakehouse


def _text(cell: dict[str, str]) -> str:
    return NULL if "VarCharValue" not in cell else (cell["VarCharValue"] or EMPTY)


def main(engine: str, failures: str | None) -> int:
    cases = [case for page in sql_pages() for case in page.cases]
    passed = 0
    out = open(failures, "w") if failures else None  # noqa: SIM115
    with tempfile.TemporaryDirectory(prefix="lakebox-conformance-") as home:
        lake = Lakehouse.open(LakeConfig(home=Path(home), engine=engine, spark_master="local[2]"))
        try:
            for case in cases:
                qe, _ = lake.queries.run(case.sql)
                answer: Any
                if qe.state == "SUCCEEDED":
                    page = lake.queries.get_query_results(qe.query_execution_id)
                    rows = page["ResultSet"]["Rows"][1:]
                    answer = [tuple(_text(c) for c in r["Data"]) for r in rows]
                else:
                    answer = qe.state_change_reason or ""
                if case.kind == "query":
                    good = qe.state == "SUCCEEDED" and answer == list(case.expected)
                else:
                    good = (
                        qe.state == "FAILED"
                        and isinstance(answer, str)
                        and re.search(case.error, answer) is not None
                        and "Traceback" not in answer
                    )
                passed += good
                if not good and out is not None:
                    out.write(f"{case.id}\t{str(answer)[:300]!r}\n")
        finally:
            lake.close()
            if out is not None:
                out.close()
    print(f"{engine}: {passed}/{len(cases)} ({100 * passed / len(cases):.1f}%)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else None))
