"""Glue's exclusion globs, translated to regular expressions.

Written here rather than taken from ``fnmatch`` / ``pathlib`` because Glue's dialect differs
from both: ``*`` and ``?`` stop at ``/`` while ``**`` crosses folders, ``{a,b}`` groups
alternatives (not nested), ``[!a-z]`` negates, ``\\`` escapes, and a leading dot is an
ordinary character. A pattern is matched against the path relative to the include path; a
file is excluded when the pattern matches the file or one of the folders above it.
"""

from __future__ import annotations

import re
from functools import lru_cache

from lakebox.errors import InvalidRequestError


@lru_cache(maxsize=512)
def glob_regex(pattern: str) -> re.Pattern[str]:
    out: list[str] = []
    i, n = 0, len(pattern)
    in_group = False
    while i < n:
        ch = pattern[i]
        if ch == "\\" and i + 1 < n:
            out.append(re.escape(pattern[i + 1]))
            i += 2
            continue
        if ch == "*":
            if i + 1 < n and pattern[i + 1] == "*":
                out.append(".*")
                i += 2
                continue
            out.append("[^/]*")
        elif ch == "?":
            out.append("[^/]")
        elif ch == "[":
            end = pattern.find("]", i + 2 if pattern[i + 1 : i + 2] in ("!", "^") else i + 1)
            if end < 0:
                raise InvalidRequestError(f"exclusion pattern {pattern!r}: unclosed '['")
            body = pattern[i + 1 : end]
            if body.startswith(("!", "^")):
                body = "^" + body[1:]
            out.append("[" + body.replace("\\", "\\\\") + "]")
            i = end
        elif ch == "{":
            if in_group:
                raise InvalidRequestError(f"exclusion pattern {pattern!r}: groups cannot nest")
            in_group = True
            out.append("(?:")
        elif ch == "}" and in_group:
            in_group = False
            out.append(")")
        elif ch == "," and in_group:
            out.append("|")
        else:
            out.append(re.escape(ch))
        i += 1
    if in_group:
        raise InvalidRequestError(f"exclusion pattern {pattern!r}: unclosed '{{'")
    return re.compile("".join(out) + r"\Z", re.DOTALL)


def is_excluded(relative_path: str, patterns: list[str]) -> bool:
    """Whether a file (path relative to the include path) is excluded by any pattern."""
    if not patterns:
        return False
    parts = relative_path.split("/")
    candidates = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    for pattern in patterns:
        rx = glob_regex(pattern)
        if any(rx.match(c) for c in candidates):
            return True
    return False


def validate_patterns(patterns: list[str]) -> None:
    for p in patterns:
        glob_regex(p)
