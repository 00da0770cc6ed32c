"""The built-in reader table (``lakebox.engine.duckdb.formats``): a reader's module is
imported when its reader is first made, so one format's query does not load them all."""

from __future__ import annotations

import subprocess
import sys

from lakebox.engine.duckdb.formats import BUILTIN_READERS, builtin_readers


def test_every_builtin_reader_is_made_by_its_factory() -> None:
    factories = builtin_readers()
    assert set(factories) == set(BUILTIN_READERS)
    for plugin, (_module, cls, _kwargs) in BUILTIN_READERS.items():
        assert type(factories[plugin]()).__name__ == cls


def test_a_parquet_reader_loads_no_other_reader_module() -> None:
    code = (
        "import sys\n"
        "from lakebox.engine.duckdb.formats import builtin_readers\n"
        "builtin_readers()['parquet']()\n"
        "prefix = 'lakebox.engine.duckdb.formats.'\n"
        "print(sorted(m[len(prefix):] for m in sys.modules if m.startswith(prefix)))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    # the Parquet reader's own helpers (footer types, thrift) and nothing of another format
    assert done.stdout.strip() == "['base', 'parquet', 'parquet_types', 'thrift']"
