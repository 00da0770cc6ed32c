"""pyarrow imports pandas, when it is installed, the first time it converts Python objects
(0.3-0.5 s): a lake's first query over many files must not pay for a library it never uses.
The test environment has pandas (PyAthena and awswrangler need it), so this can fail."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = """
import json, sys
from pathlib import Path
import lakebox
home = Path(sys.argv[1])
folder = home / "b" / "events"
folder.mkdir(parents=True)
for n in range(300):
    (folder / f"part-{n:04d}.json").write_text(json.dumps({"id": n, "name": f"n{n}"}) + "\\n")
session = lakebox.connect(str(home))
session.sql("CREATE EXTERNAL TABLE events (id int, name string) "
            "ROW FORMAT SERDE 'org.openx.data.jsonserde.JsonSerDe' LOCATION 's3://b/events/'")
rows = session.sql("SELECT count(*), max(id) FROM events").fetchall()
print(json.dumps({"rows": [list(r) for r in rows], "pandas": "pandas" in sys.modules,
                  "compute": "pyarrow.compute" in sys.modules}))
"""


def test_a_first_query_over_many_files_does_not_import_pandas(tmp_path: Path) -> None:
    pytest.importorskip("pandas")  # the point is moot without it
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(tmp_path / "lake")],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    import json

    got = json.loads(done.stdout.strip().splitlines()[-1])
    assert got["rows"] == [[300, 299]]
    assert got["pandas"] is False


def test_a_first_query_over_many_files_does_not_import_pyarrow_compute(tmp_path: Path) -> None:
    """The list of 300 paths is built without a cast, which imports ``pyarrow.compute``
    (~60 ms, more than the query itself)."""
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(tmp_path / "lake")],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    import json

    got = json.loads(done.stdout.strip().splitlines()[-1])
    assert got["rows"] == [[300, 299]]
    assert got["compute"] is False
