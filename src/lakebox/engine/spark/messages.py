"""Spark's errors in Athena's (Trino's) words.

Spark names every error with a condition (``[DIVIDE_BY_ZERO] Division by zero. Use
`try_divide` ...``), in the Python exception or in the text of the JVM exception py4j
hands back. The first condition and its sentence are turned into Athena's error name and
wording; Spark's advice (``try_*`` functions, ``spark.sql.*`` settings), the SQL state and
the JVM stack never reach the user. A failure to read a file names the file by its lake
URI, as a ``DataError``. S3 refusing or failing S3A's requests (S3 mode) is a
``StorageError`` naming the object by its ``s3://`` URI, S3's status and error code.
"""

from __future__ import annotations

import re
from urllib.parse import unquote

from lakebox.engine.spark.s3a import spark_path
from lakebox.errors import DataError, LakeboxError, SemanticError, StorageError
from lakebox.sql.plan import Plan

_CONDITION = re.compile(r"\[([A-Z][A-Z0-9_]*(?:\.[A-Z0-9_]+)*)\] ([^\n]*)")
_SQLSTATE = re.compile(r"\s*SQLSTATE: \w+.*$")
_ADVICE = re.compile(
    r"\s*(?:Use `?try_\w+`?[^.]*\.|If necessary set [^.]*\.|[^.]*spark\.sql\.[\w.]+[^.]*\."
    r"|Please,? refer to '[^']*' for a fix\."
    r"|Did you mean one of the following\?.*$)"
)
_CAST = re.compile(r"The value '(.*)' of the type \"\w+\" cannot be cast to \"(\w+)\"")
_UNRESOLVED = re.compile(r"name `?([^`\s]+)`? cannot be resolved")
_ROUTINE = re.compile(r"routine `([^`]+)`")

#: Spark's type names -> Athena's
_TYPES = {
    "INT": "integer",
    "BIGINT": "bigint",
    "SMALLINT": "smallint",
    "TINYINT": "tinyint",
    "FLOAT": "real",
    "DOUBLE": "double",
    "STRING": "varchar",
    "BOOLEAN": "boolean",
    "DATE": "date",
    "TIMESTAMP": "timestamp",
    "TIMESTAMP_NTZ": "timestamp",
}

#: conditions of a file Spark could not read
_FILE_CONDITIONS = ("FAILED_READ_FILE", "CANNOT_READ_FILE_FOOTER", "MALFORMED_RECORD_IN_PARSING")


def condition_of(text: str) -> tuple[str, str] | None:
    """The first ``[CONDITION] sentence`` of a Spark error's text."""
    found = _CONDITION.search(text)
    if found is None:
        return None
    return found.group(1), found.group(2)


def clean(sentence: str) -> str:
    """A Spark error sentence without its SQL state and its Spark-only advice."""
    text = _SQLSTATE.sub("", sentence)
    return _ADVICE.sub("", text).strip()


_PYTHON_RAISED = re.compile(r"^((?:\w+\.)*\w+(?:Error|Exception): .*)$", re.M)
_PYTHON_DATA_ERROR = re.compile(r"lakebox\.errors\.DataError: ([^\n]*)")
#: S3 refusing an executor's copy of an object (``s3_objects``), in lakebox's words
_PYTHON_STORAGE_ERROR = re.compile(r"lakebox\.errors\.StorageError: ([^\n]*)")


#: S3A's failures (``<exception>: s3a://...: <operation> on s3a://...: <S3's answer>``)
_S3A_FAILED = re.compile(
    r"(?:java\.nio\.file\.AccessDeniedException|java\.io\.\w*Exception|"
    r"org\.apache\.hadoop\.fs\.s3a\.\w+Exception|com\.amazonaws\.[\w.]+Exception): "
)
_S3A_URI = re.compile(r"s3a://[^:\s,;)]+")
_S3_STATUS = re.compile(r"Status Code: (\d+); Error Code: ([^;]+);")
_S3_UNREACHABLE = re.compile(r"Unable to execute HTTP request: ([^\n]*)")


def s3a_error(text: str) -> StorageError | None:
    """S3's refusal of (or silence to) a request of S3A, in lakebox's words, or None."""
    found = _S3A_FAILED.search(text)
    status = _S3_STATUS.search(text)
    unreachable = _S3_UNREACHABLE.search(text)
    if found is None or (status is None and unreachable is None):
        return None
    uri = _S3A_URI.search(text, found.start())
    where = f" for s3://{uri.group(0)[6:]}" if uri else ""
    if status is None:
        assert unreachable is not None
        return StorageError(
            f"Spark (S3A) cannot reach S3{where}: {unreachable.group(1).strip()[:300]}; "
            "check the lake's S3 endpoint (LAKEBOX_S3_ENDPOINT)"
        )
    code, name = status.group(1), status.group(2).strip()
    advice = (
        ": check the lake's S3 credentials and what they allow" if code in ("401", "403") else ""
    )
    answer = name if name.startswith(code) else f"{code} {name}"
    return StorageError(f"S3 refused Spark's (S3A) request{where}: {answer}{advice}")


def engine_error(err: Exception, plan: Plan) -> LakeboxError:
    """The lakebox error for a Spark failure while running ``plan``."""
    text = str(err)
    refused_by_s3 = s3a_error(text)
    if refused_by_s3 is not None:
        return refused_by_s3
    storage = _PYTHON_STORAGE_ERROR.search(text)
    if storage is not None:
        return StorageError(storage.group(1).strip())
    refused = _PYTHON_DATA_ERROR.search(text)
    if refused is not None:  # a Python reader in an executor refused a file
        message = refused.group(1).strip()
        for uri in plan.stats.file_uris:
            if uri in message:  # DataError's words: "<message> — file <uri>"
                return DataError(message.split(f" — file {uri}")[0].strip(), uri)
        return DataError(message)
    if "exception was thrown from the Python worker" in text:
        # the last line of the executor's Python traceback says what failed
        raised = [m for m in _PYTHON_RAISED.findall(text) if m.strip()]
        if raised:
            return SemanticError(f"GENERIC_INTERNAL_ERROR: {raised[-1].strip()[:500]}")
    found = condition_of(text)
    if found is None:
        first = next((line.strip() for line in text.splitlines() if line.strip()), "")
        return SemanticError(f"GENERIC_INTERNAL_ERROR: {first[:500]}")
    condition, sentence = found
    family = condition.split(".", 1)[0]
    message = clean(sentence)
    if family == "DIVIDE_BY_ZERO":
        return SemanticError("DIVISION_BY_ZERO: Division by zero")
    if family == "CAST_INVALID_INPUT":
        cast = _CAST.search(sentence)
        if cast is not None:
            kind = _TYPES.get(cast.group(2), cast.group(2).lower())
            return DataError(f"INVALID_CAST_ARGUMENT: Cannot cast '{cast.group(1)}' to {kind}")
        return DataError(f"INVALID_CAST_ARGUMENT: {message}")
    if family in ("ARITHMETIC_OVERFLOW", "CAST_OVERFLOW", "NUMERIC_VALUE_OUT_OF_RANGE"):
        return DataError(f"NUMERIC_VALUE_OUT_OF_RANGE: {message}")
    if family == "UNRESOLVED_COLUMN":
        unresolved = plan.unresolved_column()
        if unresolved:
            return SemanticError(unresolved)
        name = _UNRESOLVED.search(sentence)
        column = name.group(1) if name else "?"
        return SemanticError(f"COLUMN_NOT_FOUND: Column '{column}' cannot be resolved")
    if family == "UNRESOLVED_ROUTINE":
        routine = _ROUTINE.search(sentence)
        function = routine.group(1) if routine else "?"
        return SemanticError(f"FUNCTION_NOT_FOUND: Function '{function}' not registered")
    if family in _FILE_CONDITIONS or "read file" in sentence.lower():
        decoded = unquote(text)
        for f in plan.stats.data_files:
            if f.engine_path in decoded or spark_path(f.engine_path) in decoded:
                return DataError(f"cannot read data: {_without(message, f.engine_path)}", f.uri)
        if len(plan.stats.file_uris) == 1:
            return DataError(f"cannot read data: {message}", plan.stats.file_uris[0])
        return DataError(f"cannot read data: {message}")
    return SemanticError(f"{condition}: {message}")


def _without(message: str, path: str) -> str:
    """The message without the engine's local path of the file (the error names its URI)."""
    text = re.sub(r"\S*" + re.escape(path.rsplit("/", 1)[-1]) + r"\S*", "", unquote(message))
    return re.sub(r"\s+", " ", text).strip(" .:") or "the file is not readable"
