"""The Trino documentation's examples (``tests/conformance``) on one engine, outside
pytest: the pass rate, and each failure with how it failed, for comparing the engines.

    .venv/bin/python tests/engine/spark/conformance_rate.py spark [failures.tsv]

Runs every example through the query service of a fresh lake, as
``tests/conformance/test_trino.py`` does, and prints ``passed/total``. ``failures.tsv``
gets one line per failed case: its id, the code of how it failed (``outcome.judge``) and
the answer seen; written to ``tests/conformance/<engine>_gaps.tsv`` it is the engine's
declared gaps, which the conformance tests expect."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from conformance.corpus import sql_pages
from conformance.outcome import judge, run
from lakebox.config import LakeConfig
from lakebox.lakehouse import Lakehouse


def main(engine: str, failures: str | None) -> int:
    cases = [case for page in sql_pages() for case in page.cases]
    passed = 0
    lines: list[str] = []
    with tempfile.TemporaryDirectory(prefix="lakebox-conformance-") as home:
        lake = Lakehouse.open(LakeConfig(home=Path(home), engine=engine, spark_master="local[2]"))
        try:
            for case in cases:
                state, answer = run(lake.queries, case.sql)
                code = judge(case, state, answer)
                if code is None:
                    passed += 1
                else:
                    seen = " ".join(str(answer)[:200].split())
                    lines.append(f"{case.id}\t{code}\t{seen}\n")
        finally:
            lake.close()
    rate = f"{passed}/{len(cases)} ({100 * passed / len(cases):.1f}%)"
    if failures:
        with open(failures, "w") as out:
            out.write(
                f"# {engine}: the Trino documentation's examples it fails ({rate} pass);\n"
                "# written by tests/engine/spark/conformance_rate.py: case id, how it fails, "
                "the answer seen\n"
            )
            out.writelines(lines)
    print(f"{engine}: {rate}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else None))
