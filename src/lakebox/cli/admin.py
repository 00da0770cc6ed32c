"""``lakebox doctor``, ``lakebox backup`` and ``lakebox restore``: look after the lake's
own metadata (mounted on the main CLI by ``register``).

User errors print one line without a traceback and exit 1; ``doctor`` exits 1 when it
finds a problem, so scripts can chain on it.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from lakebox.cli.output import lazy_console
from lakebox.config import LakeConfig
from lakebox.errors import LakeboxError

# made when first used: rich is not imported by commands that print nothing through them
out = lazy_console(highlight=False)
err_console = lazy_console(stderr=True, highlight=False)

HomeOpt = Annotated[
    Path | None,
    typer.Option("--home", envvar="LAKEBOX_HOME", help="Lake folder (default ./.lakebox)."),
]


def _home(home: Path | None) -> Path:
    return LakeConfig.from_env(home=home).home


def _fail(err: LakeboxError) -> typer.Exit:
    err_console.print(f"[bold red]error:[/] {err}", markup=True)
    return typer.Exit(1)


def doctor(
    home: HomeOpt = None,
    fix: Annotated[
        bool,
        typer.Option(
            "--fix",
            help="Also make the safe repairs: finish or undo writes of dead processes, "
            "remove stale temp files.",
        ),
    ] = False,
) -> None:
    """Check the lake's metadata stores, journals and layout; one line per check.

    Exits 1 when a problem is found. Changes nothing unless --fix is given.
    """
    from lakebox.admin import doctor as checks

    try:
        root = _home(home)
        if fix and (root / checks.METADATA).is_dir():
            for line in checks.fix(root):
                out.print(f"fixed    {line}", markup=False)
        findings = checks.diagnose(root)
    except LakeboxError as err:
        raise _fail(err) from None
    from rich.table import Table
    from rich.text import Text

    # a grid keeps wrapped messages indented under their check in a narrow terminal
    grid = Table.grid(padding=(0, 2))
    grid.add_column(no_wrap=True, min_width=7)
    grid.add_column()
    for finding in findings:
        status = Text("ok") if finding.ok else Text("PROBLEM", style="bold red")
        grid.add_row(status, Text(f"{finding.check}: {finding.message}"))
    with out.capture() as captured:
        out.print(grid)
    sys.stdout.write("".join(line.rstrip() + "\n" for line in captured.get().splitlines()))
    problems = [f for f in findings if not f.ok]
    if problems:
        hint = " ('lakebox doctor --fix' repairs some)" if any(f.fixable for f in problems) else ""
        out.print(f"{len(problems)} problem(s) found{hint}", markup=False)
        raise typer.Exit(1)
    out.print("no problems found", markup=False)


def backup(
    dest: Annotated[
        Path, typer.Argument(help="New folder, or a file ending in .tar.gz, for the backup.")
    ],
    home: HomeOpt = None,
) -> None:
    """Copy the lake's metadata (catalog, queries, workflows, ...) consistently.

    SQLite stores are copied with SQLite's backup API, so other processes may keep
    working meanwhile. Bucket data is not copied.
    """
    from lakebox.admin.backup import backup as run

    try:
        report = run(_home(home), dest)
    except LakeboxError as err:
        raise _fail(err) from None
    out.print(
        f"backed up {len(report.stores)} stores and {report.files} other files "
        f"({report.bytes:,} bytes) to {report.path}",
        markup=False,
    )


def restore(
    src: Annotated[Path, typer.Argument(help="A backup folder or .tar.gz file.")],
    home: HomeOpt = None,
) -> None:
    """Put the lake's metadata back from a backup.

    The backup is checked first; the lake must not be in use. The metadata it
    replaces is kept in <home>/_lakebox-before-restore-<time>/, never deleted.
    """
    from lakebox.admin.backup import restore as run

    try:
        report = run(src, _home(home))
    except LakeboxError as err:
        raise _fail(err) from None
    out.print(
        f"restored {len(report.stores)} stores and {report.files} other files into {report.home}",
        markup=False,
    )
    if report.aside is not None:
        out.print(f"the metadata it replaced is in {report.aside}", markup=False)


def register(app: typer.Typer) -> None:
    """Add the commands to the main ``lakebox`` app."""
    app.command()(doctor)
    app.command()(backup)
    app.command()(restore)
