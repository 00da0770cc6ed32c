"""``getResolvedOptions``: a job's ``--name value`` arguments as Glue resolves them."""

from __future__ import annotations

from collections.abc import Sequence


class GlueArgumentError(Exception):
    """An argument the script asks for was not passed (Glue's error of the same name)."""


def getResolvedOptions(args: Sequence[str], options: Sequence[str]) -> dict[str, str]:
    """The values of ``--<name>`` for each name of ``options`` in ``args`` (``sys.argv``),
    as ``{name: value}``; ``JOB_NAME`` and ``JOB_RUN_ID`` are always there when given.
    ``--name=value`` is read as ``--name value``. A missing one is a GlueArgumentError
    naming it."""
    found: dict[str, str] = {}
    items = list(args[1:])
    i = 0
    while i < len(items):
        item = items[i]
        if item.startswith("--"):
            key, sep, value = item[2:].partition("=")
            if sep:
                found[key] = value
                i += 1
                continue
            if i + 1 < len(items):
                found[key] = items[i + 1]
                i += 2
                continue
            found[key] = ""
        i += 1
    wanted = list(dict.fromkeys([*options, *(k for k in ("JOB_NAME", "JOB_RUN_ID") if k in found)]))
    missing = [name for name in wanted if name not in found]
    if missing:
        raise GlueArgumentError(
            "the following arguments are required: " + ", ".join(f"--{m}" for m in missing)
        )
    return {name: found[name] for name in wanted}
