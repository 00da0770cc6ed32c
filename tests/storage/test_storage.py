"""The storage contract: every backend (local folders, a real S3 server) behaves the same."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from lakebox.config import LakeConfig
from lakebox.errors import InvalidRequestError, StorageError
from lakebox.storage import Storage, join_uri, parse_uri
from lakebox.storage.base import real_path


@pytest.mark.parametrize(
    ("text", "scheme", "bucket", "key"),
    [
        ("s3://bucket/a/b.csv", "s3", "bucket", "a/b.csv"),
        ("s3a://bucket/a/", "s3", "bucket", "a/"),
        ("S3N://bucket", "s3", "bucket", ""),
        ("file:///tmp/x.csv", "file", "", "/tmp/x.csv"),
    ],
)
def test_parse_uri_accepts_aws_and_hadoop_spellings(
    text: str, scheme: str, bucket: str, key: str
) -> None:
    uri = parse_uri(text)
    assert (uri.scheme, uri.bucket, uri.key) == (scheme, bucket, key)


def test_plain_paths_become_absolute_file_uris(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    uri = parse_uri("data/x.csv")
    assert uri.scheme == "file" and uri.key == str(tmp_path / "data" / "x.csv")


@pytest.mark.parametrize("bad", ["", "hdfs://nn/x", "s3:///nokey", "file://relative/x"])
def test_bad_locations_are_rejected_with_the_location_named(bad: str) -> None:
    with pytest.raises(InvalidRequestError):
        parse_uri(bad)


def test_join_uri_adds_one_slash() -> None:
    assert join_uri("s3://b/t", "year=2024/", "f.csv") == "s3://b/t/year=2024/f.csv"
    assert join_uri("s3://b/t/", "f.csv") == "s3://b/t/f.csv"


def test_local_buckets_are_folders_under_the_home(config: LakeConfig) -> None:
    storage = Storage(config)
    storage.write_bytes("s3://sales/2024/a.csv", b"1,2\n")
    assert (config.home / "sales" / "2024" / "a.csv").read_bytes() == b"1,2\n"
    assert storage.engine_path("s3://sales/2024/a.csv") == str(config.home / "sales/2024/a.csv")


def test_contract_write_list_read_delete(any_config: LakeConfig, bucket: str) -> None:
    storage = Storage(any_config)
    storage.ensure_bucket(bucket)
    base = f"s3://{bucket}/tbl"
    storage.write_bytes(f"{base}/year=2024/a.csv", b"a")
    storage.write_bytes(f"{base}/year=2025/b.csv", b"bb")
    storage.write_bytes(f"{base}/_SUCCESS", b"")
    storage.write_bytes(f"{base}/year=2025/.b.csv.crc", b"x")
    files = storage.list_files(base)
    assert [f.uri for f in files] == [f"{base}/year=2024/a.csv", f"{base}/year=2025/b.csv"]
    assert [f.size for f in files] == [1, 2]
    assert storage.list_dirs(base) == [f"{base}/year=2024/", f"{base}/year=2025/"]
    assert storage.read_bytes(f"{base}/year=2025/b.csv") == b"bb"
    assert storage.exists(f"{base}/year=2024/a.csv")
    assert not storage.is_empty(base)
    # a prefix that only shares leading characters is a different folder
    assert storage.list_files(f"s3://{bucket}/tb") == []
    storage.delete_prefix(base)
    assert storage.list_files(base) == []
    assert storage.is_empty(base)


def test_contract_missing_object_names_the_uri(any_config: LakeConfig, bucket: str) -> None:
    storage = Storage(any_config)
    storage.ensure_bucket(bucket)
    with pytest.raises(StorageError, match=f"s3://{bucket}/nope.csv"):
        storage.read_bytes(f"s3://{bucket}/nope.csv")
    assert storage.list_files(f"s3://{bucket}/missing/") == []


def test_local_write_is_atomic_when_the_writer_fails(config: LakeConfig) -> None:
    storage = Storage(config)
    storage.write_bytes("s3://b/x.txt", b"old")

    def boom(fh: object) -> None:
        fh.write(b"partial")  # type: ignore[attr-defined]
        raise RuntimeError("crash half-way")

    with pytest.raises(RuntimeError):
        storage.write_with("s3://b/x.txt", boom)
    assert storage.read_bytes("s3://b/x.txt") == b"old"
    assert [p.name for p in (config.home / "b").iterdir()] == ["x.txt"]


LOCAL_WITHOUT_FSSPEC = """
import sys
from pathlib import Path
from lakebox.config import LakeConfig
from lakebox.storage import Storage

home = Path(sys.argv[1])
storage = Storage(LakeConfig.from_env(home=home, storage="local"))
storage.ensure_bucket("b")
storage.write_bytes("s3://b/t/a.csv", b"1\\n")
storage.makedirs("s3://b/t/empty/")
found = [f.uri for f in storage.list_files("s3://b/t")]
assert found == ["s3://b/t/a.csv"], found
assert storage.local_path("s3://b/t/a.csv") == home / "b/t/a.csv"
assert storage.engine_path("s3://b/t/a.csv") == str(home / "b/t/a.csv")
assert storage.resolve("s3://b/t/a.csv") == (str(home / "b/t/a.csv"), True)
assert "fsspec" not in sys.modules, "a local write, listing or resolution imported fsspec"
fs, path = storage.fs_for("s3://b/t/a.csv")  # filesystem objects still work, loaded now
assert fs.cat_file(path) == b"1\\n" and storage.exists("s3://b/t/a.csv")
print("ok")
"""


def test_local_files_are_reached_without_importing_fsspec(lake_home: Path) -> None:
    """fsspec imports asyncio and ssl (~60 ms of every command's start-up): a local write,
    listing or path resolution goes to the operating system directly, and ``fs_for`` still
    gives fsspec's local filesystem to the callers that want one. A subprocess, since this
    test process has imported fsspec already."""
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-c", LOCAL_WITHOUT_FSSPEC, str(lake_home)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert (done.returncode, done.stdout) == (0, "ok\n"), done.stderr


def test_real_path_is_the_real_path(tmp_path: Path) -> None:
    """The boundary's kernel-made real path equals ``os.path.realpath`` whatever the
    path: links to folders and files, missing tails, link loops, ``..``, trailing
    slashes, relative paths."""
    lake, out = tmp_path / "lake", tmp_path / "out"
    (lake / "d").mkdir(parents=True)
    out.mkdir()
    (lake / "d" / "f").write_text("x")
    (out / "g").write_text("y")
    (lake / "link").symlink_to(out, target_is_directory=True)
    (lake / "d" / "flink").symlink_to("f")
    (lake / "loop1").symlink_to("loop2")
    (lake / "loop2").symlink_to("loop1")
    base = str(lake)
    paths = [
        base,
        base + "/",
        base + "/d/",
        base + "/d/f",
        base + "/d/f/",
        base + "/d/flink",
        base + "/link",
        base + "/link/g",
        base + "/link/missing/x",
        base + "/missing",
        base + "/loop1",
        base + "/loop1/x",
        base + "/d/../link/g",
        "relative/x",
        ".",
        "/",
    ]
    for path in paths:
        assert real_path(path) == os.path.realpath(path), path
