"""What every engine's writer shares (``lakebox.formats.writing``): file names and Athena's
partition limit."""

from __future__ import annotations

import pytest

from lakebox.errors import InvalidRequestError
from lakebox.formats.plugins import ctas_format
from lakebox.formats.writing import MAX_PARTITIONS, WriteTarget, check_partition_count


def _target(fmt: str, codec: str) -> WriteTarget:
    plugin = ctas_format(fmt)
    assert plugin is not None
    return WriteTarget(plugin, codec=codec, compression=codec.upper(), query_id="q-1")


@pytest.mark.parametrize(
    ("fmt", "codec", "index", "bucket", "name"),
    [
        ("PARQUET", "snappy", 0, None, "q-1_00000.parquet"),
        ("PARQUET", "snappy", 12, None, "q-1_00012.parquet"),
        ("JSON", "gzip", 3, None, "q-1_00003.json.gz"),
        ("TEXTFILE", "zstd", 1, None, "q-1_00001.zst"),
        # Hive's bucket naming: the bucket number leads, whatever the file's index
        ("ORC", "zlib", 7, 3, "0000003_0_q-1.orc"),
    ],
)
def test_file_names_carry_the_query_id_and_hives_bucket_number(
    fmt: str, codec: str, index: int, bucket: int | None, name: str
) -> None:
    assert _target(fmt, codec).file_name(index, bucket) == name


def test_more_than_100_partitions_fail_as_in_athena() -> None:
    check_partition_count(MAX_PARTITIONS)
    with pytest.raises(InvalidRequestError, match=r"HIVE_TOO_MANY_OPEN_PARTITIONS.*at least 101"):
        check_partition_count(MAX_PARTITIONS + 1)
