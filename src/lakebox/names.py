"""The naming rules of each AWS service lakebox imitates, in one place.

Every door that creates (or renames) a named thing calls one of these checks before it
writes anything; each returns the name as the service stores it (Athena and Glue lower-case
catalog names) or raises ``InvalidNameError`` saying which kind of name, the value and the
rule it breaks. Names of things that already exist are only looked up, never re-checked, so
an object created under older rules stays reachable; a lookup that would turn a name into a
file path asks ``stream_folder_ok`` (or a check like it) first.

The patterns and lengths come from botocore's service models
(``botocore/data/<service>/<version>/service-2.json``); each check names the shape it follows.
lakebox is stricter on purpose where a name could become path material: catalog names
(databases, tables, columns) never hold ``/``, ``\\``, control characters or a bare ``.`` /
``..``, and stream names (which are folders) never start with ``.``.

Kept free of heavy imports: the CLI imports it on every command.
"""

from __future__ import annotations

import re

from lakebox.errors import InvalidRequestError

__all__ = [
    "InvalidNameError",
    "athena_column",
    "athena_database",
    "athena_table",
    "crawler_table_name",
    "delivery_stream_name",
    "glue_column",
    "glue_database",
    "glue_name",
    "glue_table",
    "is_valid_column",
    "schedule_group_name",
    "schedule_name",
    "state_machine_name",
    "stream_folder_ok",
    "table_prefix",
    "workgroup_name",
]


class InvalidNameError(InvalidRequestError):
    """A name breaks its service's naming rule; ``code`` is the error code that service
    returns for it (Athena InvalidRequestException, Glue InvalidInputException, ...)."""

    def __init__(
        self, kind: str, value: object, problem: str, rule: str, code: str | None = None
    ) -> None:
        super().__init__(f"Invalid {kind} name {value!r}: {problem}. {rule}")
        self.kind = kind
        self.value = value
        self.problem = problem
        self.rule = rule
        if code is not None:
            self.code = code


# -- shared pieces ---------------------------------------------------------------------------
def _char(ch: str) -> str:
    """A character as a user can read it in a message: 'a', '/', '\\x00', ' ' (space)."""
    if ch == " ":
        return "' ' (a space)"
    if ch.isprintable():
        return repr(ch)
    return f"{ch!r} (U+{ord(ch):04X})"


def _first_bad(name: str, allowed: re.Pattern[str]) -> str | None:
    """What is wrong with the first character of ``name`` outside ``allowed``; a path
    separator is named first, since it is the likeliest reason the name is wrong."""
    for sep in ("/", "\\"):
        if sep in name and not allowed.fullmatch(sep):
            return f"{_char(sep)} at position {name.index(sep) + 1} is not allowed (a name is not a path)"
    for i, ch in enumerate(name):
        if not allowed.fullmatch(ch):
            return f"{_char(ch)} at position {i + 1} is not allowed"
    return None


def _length(name: str, low: int, high: int) -> str | None:
    if not name and low > 0:
        return "it is empty"
    if len(name) < low:
        return f"it is {len(name)} characters long, shorter than {low}"
    if len(name) > high:
        return f"it is {len(name)} characters long, longer than {high}"
    return None


def _check(
    kind: str,
    name: object,
    low: int,
    high: int,
    allowed: re.Pattern[str],
    rule: str,
    code: str | None = None,
) -> str:
    if not isinstance(name, str):
        raise InvalidNameError(kind, name, "it is not a string", rule, code)
    problem = _length(name, low, high) or _first_bad(name, allowed)
    if problem:
        raise InvalidNameError(kind, name, problem, rule, code)
    return name


# Glue's single-line string pattern (shape NameString in glue/2017-03-31):
# [\u0020-\uD7FF\uE000-\uFFFD\uD800\uDC00-\uDBFF\uDFFF\t]*  -- any character but line
# breaks and other control characters below U+0020, lone surrogates and U+FFFE / U+FFFF.
# Written as its complement: the same characters (every code point checked), but compiling
# the listed ranges costs ~3 % of a first ``lakebox sql "SELECT 1"``, this ~0.
_GLUE_CHAR = re.compile("[^\x00-\x08\x0a-\x1f\ud800-\udfff\ufffe\uffff]")
# ... minus what lakebox refuses in catalog names: path separators, every control character
# (tab, DEL and the C1 range too)
_CATALOG_CHAR = re.compile("[^\x00-\x1f\x7f-\x9f/\\\\\ud800-\udfff\ufffe\uffff]")


def _not_a_path_step(kind: str, name: str, rule: str, code: str | None) -> None:
    if name and set(name) == {"."}:
        raise InvalidNameError(kind, name, "a name of only dots is a path step", rule, code)


# -- Athena: names created from SQL -----------------------------------------------------------
# Athena, "Name databases, tables, and columns": names are lower-cased; database, table and
# view names hold lowercase letters, digits and underscore (Hive's metastore rule, [\w_]+),
# 1-255 characters; names starting with '_' or a digit are allowed (back-quoted).
_ATHENA_CHAR = re.compile("[a-z0-9_]")
_ATHENA_RULE = (
    "Athena {kind} names are 1-255 characters: lowercase letters a-z, digits and '_' "
    "(upper case is lower-cased)"
)
# Glue Column.Name is a NameString; Hive accepts any back-quoted column name
_COLUMN_RULE = (
    "{kind} names are 1-255 characters on one line, without '/', '\\', control "
    "characters, or only dots"
)


def athena_database(name: str) -> str:
    """CREATE DATABASE / SCHEMA and the database a CTAS or CREATE TABLE writes into."""
    lowered = name.lower() if isinstance(name, str) else name
    _check("database", lowered, 1, 255, _ATHENA_CHAR, _ATHENA_RULE.format(kind="database"))
    return str(lowered)


def athena_table(name: str, kind: str = "table") -> str:
    """CREATE [EXTERNAL] TABLE, CTAS and CREATE VIEW (``kind="view"``)."""
    lowered = name.lower() if isinstance(name, str) else name
    _check(kind, lowered, 1, 255, _ATHENA_CHAR, _ATHENA_RULE.format(kind=kind))
    return str(lowered)


def athena_column(name: str, kind: str = "column") -> str:
    """A column a DDL statement or CTAS creates. Hive takes any back-quoted column name
    (AWS's own log DDL uses plain ones, CTAS yields ``_col0``); lakebox refuses what could
    turn into path material, since partition columns become folder names."""
    return glue_column(name, kind, code="InvalidRequestException")


# -- Glue: names given to the catalog and Glue APIs --------------------------------------------
def glue_name(name: str, kind: str) -> str:
    """Glue NameString (glue/2017-03-31): 1-255 characters of the single-line pattern;
    crawler and job names (CreateCrawler.Name, CreateJob.Name)."""
    return _check(
        kind,
        name,
        1,
        255,
        _GLUE_CHAR,
        f"Glue {kind} names are 1-255 characters on one line (no line breaks or "
        "control characters)",
        "InvalidInputException",
    )


def _glue_catalog(kind: str, name: str, code: str = "InvalidInputException") -> str:
    lowered = name.lower() if isinstance(name, str) else name
    rule = (
        f"Glue {kind} names are 1-255 characters on one line; lakebox also refuses '/', "
        "'\\', control characters and names of only dots"
    )
    _check(kind, lowered, 1, 255, _CATALOG_CHAR, rule, code)
    _not_a_path_step(kind, str(lowered), rule, code)
    return str(lowered)


def glue_database(name: str) -> str:
    """DatabaseInput.Name (NameString), lower-cased as Glue stores it."""
    return _glue_catalog("database", name)


def glue_table(name: str) -> str:
    """TableInput.Name (NameString), lower-cased (Glue: "for Hive compatibility")."""
    return _glue_catalog("table", name)


def glue_column(name: str, kind: str = "column", code: str = "InvalidInputException") -> str:
    """Column.Name (NameString) of a table's columns and partition keys, lower-cased."""
    lowered = name.lower() if isinstance(name, str) else name
    rule = _COLUMN_RULE.format(kind=kind[0].upper() + kind[1:])
    _check(kind, lowered, 1, 255, _CATALOG_CHAR, rule, code)
    _not_a_path_step(kind, str(lowered), rule, code)
    return str(lowered)


def is_valid_column(name: str) -> bool:
    try:
        glue_column(name)
    except InvalidNameError:
        return False
    return True


# -- crawlers -------------------------------------------------------------------------------
_NOT_TABLE_CHARS = re.compile(r"[^a-z0-9_]+")
_PREFIX_RULE = (
    "Glue TablePrefix is at most 128 characters; lakebox takes lowercase letters, digits "
    "and '_' so every crawled table name is one Athena can query"
)


def table_prefix(prefix: str) -> str:
    """CreateCrawler.TablePrefix (shape TablePrefix: 0-128), lower-cased."""
    lowered = prefix.lower() if isinstance(prefix, str) else prefix
    return _check("table prefix", lowered, 0, 128, _ATHENA_CHAR, _PREFIX_RULE)


def crawler_table_name(hint: str, prefix: str = "", room: int = 0) -> str:
    """The table name a crawler gives a folder: as Glue does, lower-cased, with every run of
    characters other than letters, digits and '_' replaced by '_' (``my-data`` ->
    ``my_data``); cut so that ``room`` more characters (a disambiguating suffix) still fit
    in 255."""
    base = _NOT_TABLE_CHARS.sub("_", hint.lower()).strip("_") or "table"
    base = base[: max(255 - room - len(prefix), 1)]
    return athena_table(prefix + base)


# -- Firehose ----------------------------------------------------------------------------------
_STREAM = re.compile(r"[a-zA-Z0-9_.-]{1,64}")
_STREAM_CHAR = re.compile(r"[a-zA-Z0-9_.-]")


def delivery_stream_name(name: str) -> str:
    """DeliveryStreamName (firehose/2015-08-04): [a-zA-Z0-9_.-]+, 1-64. lakebox keeps each
    stream in a folder of that name, so it also refuses a leading '.' ('.', '..' and hidden
    folders)."""
    rule = (
        "Firehose delivery stream names are 1-64 letters, digits, '_', '.' or '-'; lakebox "
        "also refuses a leading '.'"
    )
    _check("delivery stream", name, 1, 64, _STREAM_CHAR, rule, "ValidationException")
    if name.startswith("."):
        raise InvalidNameError(
            "delivery stream", name, "it starts with '.'", rule, "ValidationException"
        )
    return name


def stream_folder_ok(name: str) -> bool:
    """Whether ``name`` may be looked up as a stream folder: Firehose's pattern and not a
    path step. Looser than ``delivery_stream_name`` so older streams stay reachable."""
    return isinstance(name, str) and bool(_STREAM.fullmatch(name)) and name not in (".", "..")


# -- Step Functions ----------------------------------------------------------------------------
# stepfunctions/2016-11-23 shape Name: 1-80, and (CreateStateMachine.name, StartExecution.name)
# "must not contain white space, brackets < > { } [ ], wildcard characters ? *, special
# characters " # % \ ^ | ~ ` $ & , ; : /, control characters (U+0000-001F, U+007F-009F,
# U+FFFE-FFFF), surrogates (U+D800-DFFF), invalid characters (U+10FFFF)"; "." is allowed
_SFN_BAD = set('<>{}[]?*"#%\\^|~`$&,;:/')


def _sfn_char_ok(ch: str) -> bool:
    code = ord(ch)
    return not (
        ch in _SFN_BAD
        or ch.isspace()
        or code <= 0x1F
        or 0x7F <= code <= 0x9F
        or code in (0xFFFE, 0xFFFF)
        or 0xD800 <= code <= 0xDFFF
        or code == 0x10FFFF
    )


def _sfn_invalid(kind: str, name: object, problem: str, rule: str) -> InvalidNameError:
    """Step Functions' InvalidName, whose message starts as AWS's does (``Invalid Name:
    'a b'``), then says what is wrong."""
    err = InvalidNameError(kind, name, problem, rule, "InvalidName")
    err.message = f"Invalid Name: '{name}' ({err.message})"
    return err


def state_machine_name(name: str, kind: str = "state machine") -> str:
    """CreateStateMachine.name; ``kind="execution"`` for StartExecution.name (same rule)."""
    rule = (
        f"Step Functions {kind} names are 1-80 characters without white space, brackets "
        '< > { } [ ], wildcards ? *, the characters " # % \\ ^ | ~ ` $ & , ; : / or '
        "control characters"
    )
    if not isinstance(name, str):
        raise _sfn_invalid(kind, name, "it is not a string", rule)
    problem = _length(name, 1, 80)
    if problem is None:
        bad = next((ch for ch in name if not _sfn_char_ok(ch)), None)
        if bad is not None:
            problem = f"{_char(bad)} at position {name.index(bad) + 1} is not allowed"
    if problem:
        raise _sfn_invalid(kind, name, problem, rule)
    return name


# -- EventBridge Scheduler ---------------------------------------------------------------------
_SCHEDULER_CHAR = re.compile(r"[0-9a-zA-Z_.-]")


def schedule_name(name: str) -> str:
    """CreateSchedule.Name (scheduler/2021-06-30 shape Name): ^[0-9a-zA-Z-_.]+$, 1-64."""
    return _check(
        "schedule",
        name,
        1,
        64,
        _SCHEDULER_CHAR,
        "EventBridge Scheduler schedule names are 1-64 letters, digits, '-', '_' or '.'",
        "ValidationException",
    )


def schedule_group_name(name: str) -> str:
    """ScheduleGroupName (scheduler/2021-06-30): ^[0-9a-zA-Z-_.]+$, 1-64."""
    return _check(
        "schedule group",
        name,
        1,
        64,
        _SCHEDULER_CHAR,
        "EventBridge Scheduler group names are 1-64 letters, digits, '-', '_' or '.'",
        "ValidationException",
    )


# -- Athena workgroups -------------------------------------------------------------------------
_WORKGROUP_CHAR = re.compile(r"[a-zA-Z0-9._-]")


def workgroup_name(name: str) -> str:
    """CreateWorkGroup.Name (athena/2017-05-18 shape WorkGroupName): [a-zA-Z0-9._-]{1,128}."""
    return _check(
        "workgroup",
        name,
        1,
        128,
        _WORKGROUP_CHAR,
        "Athena workgroup names are 1-128 letters, digits, '.', '_' or '-'",
    )
