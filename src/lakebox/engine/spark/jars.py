"""The S3A jars for the Spark engine's S3 mode (``lakebox.engine.spark.s3a``), fetched from
PyPI because Maven Central is out of reach where lakebox is developed.

Spark finds ``s3a://`` in ``hadoop-aws``, which calls the AWS SDK for Java; pyspark ships
neither. Their home is Maven Central, which lakebox's development and CI machines cannot
reach (they reach PyPI, Debian and npm only). The PyPI source distribution of
``sagemaker_pyspark`` 1.4.5 happens to carry both, ``hadoop-aws-3.3.1.jar`` and
``aws-java-sdk-bundle-1.11.901.jar``, in its ``deps/jars/`` folder: ``install`` downloads
that archive by its pinned URL, checks it against PyPI's SHA-256, extracts those two jars
only (nothing of the archive is run or kept) and checks their own sums. On a real cluster
use the hadoop-aws of Spark's Hadoop version instead (``spark.jars.packages``).

``python -m lakebox.engine.spark.jars [folder]`` (``./dev spark-jars``) installs them in
``lakebox.config.spark_jar_cache()`` unless they are there already.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sys
import tarfile
import tempfile
import urllib.request
from pathlib import Path

from lakebox.config import spark_jar_cache
from lakebox.errors import ConfigError

#: the PyPI source distribution the jars come from, and its SHA-256 (PyPI's own sum)
SDIST_URL = (
    "https://files.pythonhosted.org/packages/df/37/"
    "88e683fd29270ca890b1b889466325be5461abb93d5ea055bc3a505d40a8/"
    "sagemaker_pyspark-1.4.5.tar.gz"
)
SDIST_SHA256 = "05ca2d5081d7138ce29a8fb0a9cba077f28c825288ed07aed46a82e63c0bf1fb"
SDIST_FOLDER = "sagemaker_pyspark-1.4.5/deps/jars/"
#: the jars taken from it: name -> (size, SHA-256)
JARS: dict[str, tuple[int, str]] = {
    "hadoop-aws-3.3.1.jar": (
        870644,
        "6be50ad8a8b445d2802381b085b2a3ede5c29d353450a6a21f16b2fefa962b6e",
    ),
    "aws-java-sdk-bundle-1.11.901.jar": (
        192321266,
        "b87175b32a16544cc1b37cf40390eb375833e62bed67f8ce6cde4b7ad6429ead",
    ),
}
#: written next to the jars once their sums were checked: later checks compare sizes only
_VERIFIED = ".verified"


def _has_size(path: Path, size: int) -> bool:
    try:
        return path.stat().st_size == size
    except OSError:
        return False


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def installed(folder: Path) -> bool:
    """The jars are in ``folder`` with the sizes and sums checked when they were put
    there (fast: no sum is computed again)."""
    stamp = folder / _VERIFIED
    if not stamp.is_file() or stamp.read_text().split() != sorted(sha for _, sha in JARS.values()):
        return False
    return all(_has_size(folder / name, size) for name, (size, _) in JARS.items())


def install(folder: Path | None = None, url: str = SDIST_URL) -> Path:
    """Put the S3A jars in ``folder`` (``spark_jar_cache()``) unless they are there:
    download the pinned archive, check its sum, extract the two jars, check theirs."""
    folder = folder or spark_jar_cache()
    if installed(folder):
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".download-", dir=folder) as tmp:
        archive = Path(tmp) / "sdist.tar.gz"
        print(f"downloading the S3A jars' archive {url} ...", file=sys.stderr)
        try:
            with urllib.request.urlopen(url, timeout=120) as response, archive.open("wb") as out:
                shutil.copyfileobj(response, out, 1 << 20)
        except OSError as err:
            raise ConfigError(f"cannot download {url}: {err}") from err
        got = _sha256(archive)
        if got != SDIST_SHA256:
            raise ConfigError(f"{url} has SHA-256 {got}, expected {SDIST_SHA256}: not used")
        wanted = {SDIST_FOLDER + name: name for name in JARS}
        with tarfile.open(archive, "r:gz") as tar:
            for member in tar:
                name = wanted.pop(member.name, None)
                if name is None or not member.isfile():
                    continue
                source = tar.extractfile(member)
                assert source is not None
                part = Path(tmp) / name
                with source, part.open("wb") as out:
                    shutil.copyfileobj(source, out, 1 << 20)
                size, sha = JARS[name]
                got = _sha256(part)
                if got != sha or part.stat().st_size != size:
                    raise ConfigError(f"{name} in {url} has SHA-256 {got}, expected {sha}")
                os.replace(part, folder / name)
                if not wanted:
                    break
        if wanted:
            raise ConfigError(f"{url} lacks {', '.join(sorted(wanted))}")
    (folder / _VERIFIED).write_text("\n".join(sorted(sha for _, sha in JARS.values())) + "\n")
    return folder


def main(argv: list[str] | None = None) -> int:
    """``python -m lakebox.engine.spark.jars [folder]``: install the jars, print where."""
    args = sys.argv[1:] if argv is None else argv
    try:
        folder = install(Path(args[0]) if args else None)
    except ConfigError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    print(folder)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
