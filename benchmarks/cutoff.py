"""Scan cutoffs: how fast a query over its workgroup's BytesScannedCutoffPerQuery stops and
what it is billed, next to the same query uncapped (docs/query-service.md).

    python benchmarks/cutoff.py

A fresh lake per table in a temporary folder, default settings, a 10 MB cutoff; the capped
query runs first, then the uncapped one (which builds a row-format table's compacted copy).
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from lakebox.config import LakeConfig
from lakebox.lakehouse import Lake
from lakebox.query.model import MB
from lakebox.query.service import QueryService

QUERY = "SELECT count(*) FROM big WHERE regexp_matches(s, '([a-f]+[0-9]+)+zz')"
STORED = {
    "text": "ROW FORMAT DELIMITED FIELDS TERMINATED BY ','",
    "json": "ROW FORMAT SERDE 'org.openx.data.jsonserde.JsonSerDe'",
    "parquet": "STORED AS PARQUET",
}


def write_table(folder: Path, fmt: str, files: int, rows: int) -> int:
    """``files`` files of ``rows`` rows (id, 120 incompressible characters); their bytes."""
    folder.mkdir(parents=True)
    for f in range(files):
        raw = os.urandom(rows * 60).hex()
        strings = [raw[i * 120 : (i + 1) * 120] for i in range(rows)]
        if fmt == "parquet":
            table = pa.table({"id": list(range(rows)), "s": strings})
            pq.write_table(
                table, folder / f"p{f}.parquet", row_group_size=10_000, compression="none"
            )
        elif fmt == "json":
            text = "".join(f'{{"id": {i}, "s": "{s}"}}\n' for i, s in enumerate(strings))
            (folder / f"p{f}.json").write_text(text)
        else:
            text = "".join(f"{i},{s}\n" for i, s in enumerate(strings))
            (folder / f"p{f}.csv").write_text(text)
    return sum(p.stat().st_size for p in folder.iterdir())


def main() -> None:
    for fmt, files, rows in [
        ("text", 1, 480_000),
        ("text", 24, 20_000),
        ("json", 24, 20_000),
        ("parquet", 24, 20_000),
    ]:
        home = Path(tempfile.mkdtemp(prefix="lakebox-cutoff-"))
        lake = Lake(LakeConfig.from_env(home=home, storage="local"))
        service = QueryService(lake)
        service.create_work_group("capped", bytes_scanned_cutoff=10 * MB)
        service.run("SELECT 1")
        size = write_table(home / "data" / "big", fmt, files, rows)
        lake.session().sql(
            f"CREATE EXTERNAL TABLE big (id int, s string) {STORED[fmt]} LOCATION 's3://data/big/'"
        )
        cells = []
        for workgroup in ("capped", "primary"):
            start = time.perf_counter()
            qe, _ = service.run(QUERY, workgroup=workgroup)
            took = time.perf_counter() - start
            cells.append(
                f"{workgroup}: {qe.state} in {took:.2f} s, {qe.data_scanned_bytes / MB:.1f} MB"
            )
        print(f"{fmt}, {files} files, {size / MB:.0f} MB | " + " | ".join(cells), flush=True)
        service.close()
        lake.close()


if __name__ == "__main__":
    main()
