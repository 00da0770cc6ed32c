from __future__ import annotations

import pytest

from lakebox.crawler.globs import is_excluded, validate_patterns
from lakebox.errors import InvalidRequestError


@pytest.mark.parametrize(
    ("pattern", "path", "excluded"),
    [
        ("*.csv", "a.csv", True),
        ("*.csv", "dir/a.csv", False),  # * does not cross folders
        ("**.csv", "dir/sub/a.csv", True),
        ("**/*.csv", "dir/sub/a.csv", True),
        ("*.{csv,avro}", "x.avro", True),
        ("*.{csv,avro}", "x.json", False),
        ("foo.?", "foo.a", True),
        ("foo.?", "foo.ab", False),
        ("myfolder/*", "myfolder/a.json", True),
        ("myfolder/*", "myfolder/sub/a.json", True),  # the folder itself matches
        ("myfolder/*/*", "myfolder/a.json", False),
        ("myfolder/**", "myfolder/x/y/z.json", True),
        ("year=202[0-2]/**", "year=2021/a.csv", True),
        ("year=202[0-2]/**", "year=2023/a.csv", False),
        ("year=202[!0-2]/**", "year=2023/a.csv", True),
        (".hidden*", ".hiddenfile", True),
        ("a\\*b", "a*b", True),
        ("a\\*b", "axb", False),
        ("logs", "logs/2024/x.log", True),  # excluding a folder excludes its contents
    ],
)
def test_glue_exclusion_glob_semantics(pattern: str, path: str, excluded: bool) -> None:
    assert is_excluded(path, [pattern]) is excluded


@pytest.mark.parametrize("pattern", ["{a,{b,c}}", "[abc", "{a,b"])
def test_malformed_globs_are_rejected(pattern: str) -> None:
    with pytest.raises(InvalidRequestError):
        validate_patterns([pattern])
