"""``lakebox --help`` without rich's Markdown and Traceback modules (``cli.lazyrich``):
every help the command draws is the one Typer draws with them loaded, the help imports
neither (nor markdown-it, nor pygments), and the stand-ins hand over to rich's classes.
Subprocesses, because this test process has imported them all already."""

from __future__ import annotations

import json
import subprocess
import sys

#: every help of the ``lakebox`` command: the root's, each group's and each command's;
#: ``real`` loads typer.rich_utils (with rich.markdown, rich.traceback) before lakebox
PROBE = """
import contextlib, io, json, sys
if sys.argv[1] == "real":
    import typer.rich_utils
from lakebox.cli import app
import typer.main

def helps(command, path):
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        try:
            app([*path, "--help"], prog_name="lakebox")
        except SystemExit:
            pass
    found = {" ".join(path): out.getvalue()}
    if hasattr(command, "list_commands"):
        ctx = command.make_context("lakebox", [], resilient_parsing=True)
        for name in command.list_commands(ctx):
            found.update(helps(command.get_command(ctx, name), [*path, name]))
    return found

found = helps(typer.main.get_command(app), [])
loaded = [m for m in ("rich.markdown", "rich.traceback", "markdown_it", "pygments")
          if m in sys.modules]
print(json.dumps({"helps": found, "loaded": loaded}))
"""


def _helps(mode: str) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, mode],
        capture_output=True,
        text=True,
        timeout=300,
        env={"COLUMNS": "100", "PATH": "/usr/bin:/bin"},
    )
    assert done.returncode == 0, done.stderr
    found: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return found


def test_every_help_is_drawn_as_typer_draws_it_with_rich_loaded() -> None:
    lazy, real = _helps("lazy"), _helps("real")
    assert lazy["loaded"] == [] and real["loaded"][:2] == ["rich.markdown", "rich.traceback"]
    helps, expected = lazy["helps"], real["helps"]
    assert isinstance(helps, dict) and isinstance(expected, dict)
    assert len(helps) > 60 and {"", "sql", "catalog tables", "stream create"} <= set(helps)
    assert all("Usage: lakebox" in text for text in helps.values())
    assert helps == expected


HAND_OVER = """
import json, sys
from lakebox.cli import lazyrich
lazyrich.install()
import typer.rich_utils as ru
stood_in = "rich.markdown" not in sys.modules and "rich.traceback" not in sys.modules
drawn = ru.Markdown("**x**")
import rich.markdown, rich.traceback
try:
    raise ValueError("boom")
except ValueError as err:
    tb = ru.Traceback.from_exception(type(err), err, err.__traceback__)
print(json.dumps({
    "stood_in": stood_in,
    "markdown": type(drawn) is rich.markdown.Markdown,
    "traceback": type(tb) is rich.traceback.Traceback,
    "hook_left": lazyrich._FINDER not in sys.meta_path,
}))
"""


def test_the_stand_ins_hand_over_to_rich() -> None:
    done = subprocess.run(
        [sys.executable, "-c", HAND_OVER], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {
        "stood_in": True,
        "markdown": True,
        "traceback": True,
        "hook_left": True,
    }
