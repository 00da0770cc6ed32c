"""What every ``lakebox`` command shares: one error printer, the last line of defence
against tracebacks, reading the user's files, and the one place a command gets its lake
(``lakehouse``): one ``Lakehouse`` per command, closed when the command ends.

Kept cheap to import (no engine, no SQL parser): every command pays for it at start-up.
"""

from __future__ import annotations

import atexit
import codecs
import errno
import gc
import importlib
import json
import os
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, NoReturn, TypeVar

import typer
from typer.core import TyperGroup
from typer.main import get_command_from_info, get_command_name, get_group_from_info
from typer.models import CommandInfo, TyperInfo

from lakebox.cli.coercion import plain_coercion
from lakebox.config import LakeConfig
from lakebox.errors import InvalidRequestError, LakeboxError, os_error_text

if TYPE_CHECKING:
    from lakebox.lakehouse import Lakehouse
    from lakebox.principal import Principal

T = TypeVar("T")

#: exit status of a user error (bad input, missing entity, a failed query)
EXIT_ERROR = 1
#: exit status of a lakebox bug (sysexits' EX_SOFTWARE)
EXIT_INTERNAL = 70

DEBUG_ENV = "LAKEBOX_DEBUG"


def print_error(message: str) -> None:
    """One line on stderr: ``error: <message>``. Plain text, so a message holding brackets
    (``Table: [varchar, integer]``) is printed as it is, never read as markup."""
    typer.echo(f"{typer.style('error:', fg='red', bold=True)} {message}", err=True)


def fail(message: str, code: int = EXIT_ERROR) -> NoReturn:
    print_error(message)
    raise typer.Exit(code)


def guard(func: Callable[[], T]) -> T:
    """Run ``func``; a LakeboxError becomes ``error: <message>`` and exit status 1."""
    try:
        return func()
    except LakeboxError as err:
        fail(str(err))


def _debug() -> bool:
    return os.environ.get(DEBUG_ENV, "").strip().lower() not in ("", "0", "false", "no")


def report(err: BaseException) -> int:
    """Print ``err`` as one line and return the exit status it deserves."""
    if isinstance(err, LakeboxError):
        print_error(str(err))
        return EXIT_ERROR
    if isinstance(err, OSError):
        print_error(os_error_text(err))
        return EXIT_ERROR
    text = str(err).strip().splitlines()[0] if str(err).strip() else ""
    print_error(
        f"internal error: {type(err).__name__}: {text} "
        f"(please report it; set {DEBUG_ENV}=1 for the traceback)"
    )
    return EXIT_INTERNAL


def _passes_through(err: BaseException) -> bool:
    """Typer's and Click's own signals (exit, abort, usage errors) and a closed pipe are
    theirs to handle."""
    if isinstance(err, OSError) and err.errno == errno.EPIPE:
        return True
    return type(err).__module__.split(".", 1)[0] in ("typer", "click")


class GuardedGroup(TyperGroup):
    """A command group that never lets a Python traceback reach the user: lakebox's own
    errors exit 1 with their message, anything else exits 70 as an ``internal error``
    (``LAKEBOX_DEBUG=1`` shows the traceback instead). Its parameters and those of the
    command it runs are coerced without pydantic where that is plain (``coercion``)."""

    def get_params(self, ctx: Any) -> Any:
        params = super().get_params(ctx)
        plain_coercion(params)
        return params

    def resolve_command(self, ctx: Any, args: list[str]) -> Any:
        name, command, rest = super().resolve_command(ctx, args)
        if command is not None:
            # its --help option is made (and kept) for the help names its context inherits
            own_help = "help_option_names" in command.context_settings
            plain_coercion(command.params if own_help else command.get_params(ctx))
        return name, command, rest

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except Exception as err:
            if _passes_through(err) or _debug():
                raise
            raise typer.Exit(report(err)) from None
        finally:
            _close_registered()
            # the command's principal ends with it: a later command run in-process
            # (tests, notebooks) that bypasses the root callback must not inherit it
            _PROFILE[0] = None
            _ACTING.clear()


class _Deferred(TyperGroup):
    """Holds a deferred command's or group's place among its parent's commands until it is
    built."""


#: the principal a command acts as: ``--profile`` / ``LAKEBOX_PROFILE`` (None: the local
#: administrator), and the principals it named in the lakes the command opened
_PROFILE: list[str | None] = [None]
_ACTING: dict[Path, Any] = {}
#: ``--profile`` value taking the keys as AWS tools find them (environment first)
AWS_CHAIN = "@env"
#: the commands that act as the ``--profile`` principal (any other refuses it)
ACTING_COMMANDS = "sql and shell"


def _root(
    profile: Annotated[
        str | None,
        typer.Option(
            "--profile",
            envvar="LAKEBOX_PROFILE",
            show_default=False,
            help=(
                "Act as the principal whose keys are in this profile of the shared "
                f"credentials file (checked with the lake's IAM); '{AWS_CHAIN}': the keys "
                "AWS tools would use (AWS_ACCESS_KEY_ID..., else AWS_PROFILE). Default: the "
                "lake's local administrator."
            ),
        ),
    ] = None,
) -> None:
    # the root group's callback: no docstring, which Typer would take for the app's help
    _PROFILE[0] = profile or None
    _ACTING.clear()


class RootGroup(GuardedGroup):
    """The ``lakebox`` group, whose commands and groups are built when first asked for:
    ``lakebox sql`` builds the ``sql`` command only (Typer reads the signature and evaluates
    the annotations of every command it builds: ~30 ms for all of them), and neither
    imports the workflow, crawler and stream command modules (``deferred``) nor builds
    their commands. Each keeps its place in the listing, and is built exactly as Typer
    builds it for an app that has it (``app.command()``, ``add_typer(<its app>,
    name=<name>)``), so help, suggestions and behaviour are those of an eager app."""

    #: name -> the root app's own commands and groups (``take``), in listing order
    lazy: ClassVar[dict[str, CommandInfo | TyperInfo]] = {}
    #: name -> (module, attribute): the Typer app of each deferred group, in listing order
    deferred: ClassVar[dict[str, tuple[str, str]]] = {}
    #: the root Typer app's ``pretty_exceptions_short`` (Typer builds groups with it)
    pretty_exceptions_short: ClassVar[bool] = True

    @classmethod
    def take(cls, app: typer.Typer) -> None:
        """Hold ``app``'s registered commands and groups (in the order Typer lists them:
        commands, then groups) to build when asked for, instead of Typer building them all
        when the app runs."""
        for info in app.registered_commands:
            assert info.callback is not None
            cls.lazy[info.name or get_command_name(info.callback.__name__)] = info
        for group in app.registered_groups:
            if not isinstance(group.name, str) or not group.name:
                raise TypeError("a group of the lakebox app is added with a name")
            cls.lazy[group.name] = group
        app.registered_commands = []
        app.registered_groups = []
        # with nothing registered Typer would not make a group: a callback that does
        # nothing and says nothing (the app's own help and settings stay those it lists)
        app.callback()(_root)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in [*self.lazy, *self.deferred]:
            self.commands[name] = _Deferred(name=name)

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        command = super().get_command(ctx, cmd_name)
        if isinstance(command, _Deferred):
            command = self.commands[cmd_name] = self._build(cmd_name)
        return command

    def _build(self, name: str) -> Any:
        info = self.lazy.get(name)
        if isinstance(info, CommandInfo):
            return get_command_from_info(
                info,
                pretty_exceptions_short=self.pretty_exceptions_short,
                rich_markup_mode=self.rich_markup_mode,
            )
        if info is None:
            module, attr = self.deferred[name]
            info = TyperInfo(getattr(importlib.import_module(module), attr), name=name)
        return get_group_from_info(
            info,
            pretty_exceptions_short=self.pretty_exceptions_short,
            rich_markup_mode=self.rich_markup_mode,
            suggest_commands=self.suggest_commands,
        )


#: what the running command opened and must shut down when it ends, however it ends
_TO_CLOSE: list[Callable[[], object]] = []


def close_when_done(callback: Callable[[], object]) -> None:
    """Run ``callback`` when the current command ends (successfully or not), so a command
    run in-process (tests, notebooks) leaves no worker thread behind."""
    _TO_CLOSE.append(callback)


def _close_registered() -> None:
    while _TO_CLOSE:
        callback = _TO_CLOSE.pop()
        try:
            callback()
        except Exception:  # closing must not hide the command's own outcome
            if _debug():
                raise


#: the ``lakebox`` process is starting up with the garbage collector off (``run_main``)
_STARTING = False
#: ``started`` froze the objects of the start-up (``run_main`` thaws them at the end)
_FROZEN = False


def starting() -> None:
    """Turn the garbage collector off while the command starts: its imports (Typer, rich,
    then the engine, sqlglot and Arrow) make hundreds of thousands of long-lived objects
    and next to no garbage, and the collections their allocations trigger, each going over
    all of them again, cost ~70 ms of a ``lakebox sql``. ``started`` turns it back on; a
    command that opens no lake (the help, ``doctor``, ``backup``, ``restore``) ends with it
    off, as short-lived as it is."""
    global _STARTING
    if gc.isenabled():
        gc.disable()
        _STARTING = True


def started() -> None:
    """The command has loaded what it runs on: the objects made so far are kept out of
    every later collection (``gc.freeze``: they live as long as the process anyway) and
    the collector is on again for what the command makes from now on."""
    global _STARTING, _FROZEN
    if _STARTING:
        _STARTING, _FROZEN = False, True
        gc.freeze()
        gc.enable()


def _finished() -> None:
    """The command is over: frozen objects are collectable again, so that the
    interpreter's exit frees them as it would have (extension modules check it: DuckDB's
    reports objects it finds still alive as leaks), and the collector is as it was."""
    global _STARTING, _FROZEN
    if _FROZEN:
        _FROZEN = False
        gc.unfreeze()
    if _STARTING:
        _STARTING = False
        gc.enable()


def run_main(app: Callable[[], Any]) -> None:
    """The console script's body: ``app()`` behind the same last line of defence, for
    whatever fails outside a command (start-up, result printing)."""
    starting()
    try:
        app()
    except Exception as err:
        if _passes_through(err) or _debug():
            raise
        raise SystemExit(report(err)) from None
    finally:
        _finished()


def exit_process(code: object) -> NoReturn:
    """End the ``lakebox`` process with ``code`` (a ``SystemExit`` code) as the
    interpreter's exit would, without its last step: tearing down every module and
    freeing every object one by one (about 0.15 G instructions, 8 % of a ``lakebox sql
    "SELECT 1"``, once DuckDB, Arrow and sqlglot are loaded). The command has closed
    what it opened (its lakes: ``close_when_done``) before this is called.

    What the interpreter's exit does that matters is still done, in its order: other
    threads are waited for (when one is alive this exits the ordinary way), the exit
    handlers run (``atexit``: logging, ``weakref.finalize``, temporary folders, coverage),
    and the standard streams are flushed; a flush that fails (a closed pipe) or a code
    that is not a number leaves the exit to the interpreter, which reports it as before.
    Only for the console script (``lakebox.cli.main``): a program that runs a command in
    its own process calls ``run_main`` and keeps its interpreter."""
    status = 0 if code is None else code
    if not isinstance(status, int) or not 0 <= status <= 255:
        raise SystemExit(code)
    main = threading.main_thread()
    if any(t is not main and not t.daemon and t.is_alive() for t in threading.enumerate()):
        raise SystemExit(code)
    if not _flushed():
        raise SystemExit(code)
    atexit._run_exitfuncs()
    if not _flushed():
        raise SystemExit(code)
    os._exit(status)


def _flushed() -> bool:
    for stream in (sys.stdout, sys.stderr):
        try:
            if stream is not None:
                stream.flush()
        except (OSError, ValueError):
            return False
    return True


# -- the user's files ---------------------------------------------------------------------

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


def read_text_file(path: Path, what: str) -> str:
    """A user's text file (SQL script, ASL definition, JSON input): UTF-8 with or without a
    BOM, or UTF-16 / UTF-32 with a BOM, as the AWS console and CLI take them. Anything else
    is an error naming the file and the first byte that is wrong."""
    label = f"{what} {path}"
    if not path.exists():
        raise InvalidRequestError(f"{label} does not exist")
    if path.is_dir():
        raise InvalidRequestError(f"{label} is a folder, not a file")
    try:
        data = path.read_bytes()
    except OSError as err:
        raise InvalidRequestError(f"cannot read {label}: {err.strerror or err}") from err
    encoding = next((enc for bom, enc in _BOMS if data.startswith(bom)), None)
    if encoding is None and b"\x00" in data:
        raise InvalidRequestError(
            f"{label} looks like a binary file (a NUL byte at offset {data.index(0)}); "
            "give a UTF-8 text file"
        )
    encoding = encoding or "utf-8"
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as err:
        raise InvalidRequestError(
            f"{label} is not {encoding.upper().removesuffix('-SIG')} text: byte "
            f"0x{data[err.start]:02x} at offset {err.start} cannot be decoded; "
            "save it as UTF-8"
        ) from err
    return text


def read_json_object(path: Path, what: str) -> dict[str, Any]:
    """A user's JSON file that must hold one object."""
    text = read_text_file(path, what)
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as err:
        raise InvalidRequestError(
            f"{what} {path} is not JSON: {err.msg} at line {err.lineno} column {err.colno}"
        ) from err
    except RecursionError as err:
        raise InvalidRequestError(f"{what} {path} is JSON nested too deeply to read") from err
    if not isinstance(doc, dict):
        kind = {list: "an array", str: "a string", bool: "a boolean", type(None): "null"}.get(
            type(doc), "a number"
        )
        raise InvalidRequestError(f"{what} {path} must hold a JSON object, not {kind}")
    return doc


# -- the lake -----------------------------------------------------------------------------


def lake_config(home: Path | None, *, create: bool = False) -> LakeConfig:
    """The configuration of the lake at ``home`` (``--home``, else ``$LAKEBOX_HOME``, else
    ``./.lakebox``, relative to the directory the command was typed in). A lake that does
    not exist is made only when ``create`` (commands that create something); otherwise the
    user is told how to make one."""
    config = LakeConfig.from_env(home=home)
    config.open_home(create=create)
    return config


#: the lakes the running command opened, by home (closed with the command)
_LAKES: dict[Path, Lakehouse] = {}


def lakehouse(home: Path | None, *, create: bool = False, acting: bool = False) -> Lakehouse:
    """The running command's lake at ``home`` (see ``lake_config``), opened and started the
    first time the command asks for it; every service a command uses comes from it, and
    it is closed, with its services, when the command ends. Only a command that acts as
    the ``--profile`` principal (``acting``: it asks ``principal``) may be given one; any
    other refuses it rather than act as the local administrator."""
    if _PROFILE[0] is not None and not acting:
        fail(
            f"--profile (LAKEBOX_PROFILE) is honoured by the {ACTING_COMMANDS} commands only; "
            "this command acts as the lake's local administrator: run it without --profile, "
            "or over the server (lakebox serve) with the AWS CLI"
        )
    config = lake_config(home, create=create)
    lake = _LAKES.get(config.home)
    if lake is None:
        from lakebox.lakehouse import Lakehouse

        lake = Lakehouse.open(config, create=create)
        _LAKES[config.home] = lake
        close_when_done(lambda: _close_lake(config.home))
        started()
    return lake


def principal(lake: Lakehouse) -> Principal:
    """Who the running command acts as in ``lake``: the local administrator, or the
    principal of the ``--profile`` keys, checked with the lake's IAM (identity modules
    are imported only then: a command without --profile does not pay for them)."""
    from lakebox.principal import LOCAL_ADMIN

    profile = _PROFILE[0]
    if profile is None:
        return LOCAL_ADMIN
    home = lake.config.home
    found: Principal | None = _ACTING.get(home)
    if found is None:
        from lakebox.iam.acting import keys_principal
        from lakebox.iam.profiles import find_credentials

        # a named profile of the credentials file; @env: as AWS tools look (environment
        # keys, else AWS_PROFILE, else the default profile)
        creds = find_credentials(None if profile == AWS_CHAIN else profile)
        keys = [creds.access_key_id, creds.secret_access_key]
        found = keys_principal(
            lake.iam, [*keys, creds.session_token] if creds.session_token else keys
        )
        _ACTING[home] = found
    return found


def _close_lake(home: Path) -> None:
    lake = _LAKES.pop(home, None)
    if lake is not None:
        lake.close()
