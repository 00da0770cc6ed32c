"""Functions, Lambda-style: Python handlers the lake runs when events reach them.

A function is code (a ``.py`` file, a folder, or a zip archive as Lambda's ``ZipFile``)
copied into the lake's metadata, a handler (``lambda_function.lambda_handler``, as Lambda
names it: module, then function; ``package.module:function`` names one importable from
the code folder as well), an execution role, a timeout and environment variables.

Each invocation runs in its own Python process (``worker.py``): a handler cannot touch the
lake's process, is killed at its timeout, and its failure comes back the Lambda way
(``FunctionError: Unhandled``, a payload with ``errorMessage`` / ``errorType``), never as
a traceback in the caller. Its environment is Lambda's: ``AWS_REGION``,
``AWS_LAMBDA_FUNCTION_NAME``, the execution role's temporary credentials and, when the
lake is served, ``AWS_ENDPOINT_URL`` (boto3 >= 1.28 sends every client there), so a
handler written for AWS, with boto3 and nothing of lakebox, runs unchanged.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lakebox.errors import EntityNotFoundError, InvalidRequestError

#: Lambda's limits: a name, a timeout, an unzipped package
NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
MAX_TIMEOUT = 900
MAX_CODE_BYTES = 250 * 1024 * 1024
#: the Python runtimes a function may name (it runs on the lake's own Python)
RUNTIMES = frozenset({f"python3.{n}" for n in range(8, 15)})
#: how much of an invocation's output ``LogResult`` carries (Lambda: the last 4 KB)
LOG_TAIL = 4096
#: how much of an invocation's output lakebox keeps (the end of it)
MAX_LOG = 1024 * 1024
_WORKER = Path(__file__).with_name("worker.py")
#: what a function process inherits of the lake's environment (nothing of its secrets)
_INHERITED = ("PATH", "HOME", "LANG", "LC_ALL", "TZ", "TMPDIR", "SYSTEMROOT", "VIRTUAL_ENV")
_RESERVED = re.compile(r"^(AWS_|_HANDLER$|LAMBDA_|LAKEBOX_INVOCATION)")


class FunctionError(InvalidRequestError):
    """A function Lambda would refuse to make (``InvalidParameterValueException``)."""

    code = "InvalidParameterValueException"


class FunctionNotFoundError(EntityNotFoundError):
    code = "ResourceNotFoundException"


@dataclass(frozen=True)
class Function:
    name: str
    arn: str
    handler: str
    runtime: str
    role: str
    timeout: int
    memory_size: int
    environment: dict[str, str]
    description: str
    code_sha256: str
    code_size: int
    last_modified: dt.datetime

    def configuration(self) -> dict[str, Any]:
        """Lambda's ``FunctionConfiguration``."""
        return {
            "FunctionName": self.name,
            "FunctionArn": self.arn,
            "Runtime": self.runtime,
            "Role": self.role,
            "Handler": self.handler,
            "CodeSize": self.code_size,
            "Description": self.description,
            "Timeout": self.timeout,
            "MemorySize": self.memory_size,
            "LastModified": self.last_modified.strftime("%Y-%m-%dT%H:%M:%S.000+0000"),
            "CodeSha256": self.code_sha256,
            "Version": "$LATEST",
            "Environment": {"Variables": dict(self.environment)},
            "State": "Active",
            "LastUpdateStatus": "Successful",
            "PackageType": "Zip",
            "Architectures": ["x86_64"],
        }


@dataclass
class Invocation:
    """What one invocation came to, as Lambda's Invoke answers it."""

    request_id: str
    payload: bytes
    function_error: str | None = None
    log: str = ""
    duration_ms: float = 0.0

    @property
    def log_result(self) -> str:
        """The last 4 KB of the log, base64 (Invoke's ``LogResult`` with ``LogType=Tail``)."""
        tail = self.log.encode("utf-8", errors="replace")[-LOG_TAIL:]
        return base64.b64encode(tail).decode("ascii")

    @property
    def error(self) -> dict[str, Any] | None:
        if self.function_error is None:
            return None
        try:
            found: dict[str, Any] = json.loads(self.payload)
        except ValueError:
            return {"errorMessage": self.payload.decode(errors="replace")}
        return found


@dataclass
class Credentials:
    access_key_id: str
    secret_access_key: str = field(repr=False)
    session_token: str = field(repr=False)


def check_name(name: Any) -> str:
    if not isinstance(name, str) or not NAME.match(name):
        raise FunctionError(
            f"1 validation error detected: Value '{name}' at 'functionName' failed to satisfy "
            "constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9-_]+ "
            "(1 to 64 characters)"
        )
    return name


def function_name(ref: str, account: str | None = None) -> str:
    """A function's name from its name, its ARN or ``account:function:name``. With
    ``account`` (the lake's), a reference naming another account is a function the lake
    does not have: its functions are all the lake account's, and a name alone must never
    reach one of them through another account's ARN."""
    parts = ref.split(":")
    if ref.startswith("arn:"):
        if len(parts) < 7 or parts[2] != "lambda" or parts[5] != "function":
            raise FunctionError(f"{ref} is not a Lambda function ARN")
        owner, name = parts[4], parts[6]
    elif len(parts) == 3 and parts[1] == "function":
        owner, name = parts[0], parts[2]
    else:
        return ref
    if account is not None and owner != account:
        raise FunctionNotFoundError(f"Function not found: {ref}")
    return name


def check_settings(
    handler: Any, runtime: Any, timeout: Any, memory_size: Any, environment: Any
) -> dict[str, str]:
    if not isinstance(handler, str) or not re.match(r"^[^\s]{1,128}$", handler):
        raise FunctionError("Handler must be a string like lambda_function.lambda_handler")
    if "." not in handler and ":" not in handler:
        raise FunctionError(
            f"Bad handler '{handler}': a handler is <module>.<function> "
            "(lambda_function.lambda_handler)"
        )
    if runtime not in RUNTIMES:
        raise FunctionError(
            f"The runtime parameter of {runtime} is not supported by lakebox "
            f"(it runs Python functions: {', '.join(sorted(RUNTIMES))})"
        )
    if isinstance(timeout, bool) or not isinstance(timeout, int) or not 1 <= timeout <= MAX_TIMEOUT:
        raise FunctionError(
            f"1 validation error detected: Value '{timeout}' at 'timeout' failed to satisfy "
            f"constraint: Member must have value between 1 and {MAX_TIMEOUT}"
        )
    if isinstance(memory_size, bool) or not isinstance(memory_size, int):
        raise FunctionError("MemorySize must be an integer")
    if not 128 <= memory_size <= 10240:
        raise FunctionError(
            f"1 validation error detected: Value '{memory_size}' at 'memorySize' failed to "
            "satisfy constraint: Member must have value between 128 and 10240"
        )
    env = environment or {}
    if not isinstance(env, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in env.items()
    ):
        raise FunctionError("Environment variables must be a map of strings to strings")
    for key in env:
        if not re.match(r"^[a-zA-Z]([a-zA-Z0-9_])*$", key):
            raise FunctionError(f"Environment variable name {key!r} is not valid")
        if _RESERVED.match(key):
            raise FunctionError(
                "Lambda was unable to configure your environment variables because the "
                f"environment variables you have provided contains reserved keys that are "
                f"currently not supported for modification. Reserved keys used in this "
                f"request: {key}"
            )
    return dict(env)


# -- code -------------------------------------------------------------------------------------


def install_code(
    target: Path, *, source: Path | None = None, zip_bytes: bytes | None = None
) -> tuple[str, int]:
    """Put a function's code in ``target`` (replaced whole), from a ``.py`` file, a folder
    or zip bytes; returns the package's SHA-256 (base64, as Lambda's ``CodeSha256``) and
    size. A zip entry that would land outside the folder is refused."""
    staging = Path(tempfile.mkdtemp(prefix=".code-", dir=target.parent))
    try:
        if zip_bytes is not None:
            digest, size = _unzip(zip_bytes, staging)
        elif source is not None:
            digest, size = _copy(source, staging)
        else:
            raise FunctionError("a function needs code: a .py file, a folder or a zip archive")
        if target.exists():
            shutil.rmtree(target)
        staging.rename(target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return digest, size


def _unzip(data: bytes, into: Path) -> tuple[str, int]:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        raise FunctionError(
            "Could not unzip uploaded file. Please check your file, then try to upload again."
        ) from None
    with archive:
        total = 0
        root = into.resolve()
        for info in archive.infolist():
            total += info.file_size
            if total > MAX_CODE_BYTES:
                raise FunctionError(f"Unzipped size must be smaller than {MAX_CODE_BYTES} bytes")
            dest = (into / info.filename).resolve()
            if dest != root and root not in dest.parents:
                raise FunctionError(
                    f"Could not unzip uploaded file: entry {info.filename!r} is outside the package"
                )
            if info.is_dir():
                dest.mkdir(parents=True, exist_ok=True)
                continue
            dest.parent.mkdir(parents=True, exist_ok=True)
            with archive.open(info) as src, open(dest, "wb") as out:
                shutil.copyfileobj(src, out)
    return base64.b64encode(hashlib.sha256(data).digest()).decode(), len(data)


def _copy(source: Path, into: Path) -> tuple[str, int]:
    if source.is_file():
        if source.suffix == ".zip":
            return _unzip(source.read_bytes(), into)
        shutil.copy2(source, into / source.name)
        files = [into / source.name]
    elif source.is_dir():
        shutil.copytree(
            source,
            into,
            dirs_exist_ok=True,
            ignore=shutil.ignore_patterns("__pycache__", ".git", ".venv"),
        )
        files = sorted(p for p in into.rglob("*") if p.is_file())
    else:
        raise FunctionError(f"no code at {source}: give a .py file, a folder or a .zip")
    digest = hashlib.sha256()
    size = 0
    for path in files:
        data = path.read_bytes()
        size += len(data)
        digest.update(str(path.relative_to(into)).encode() + b"\0" + data)
    if size > MAX_CODE_BYTES:
        raise FunctionError(f"Unzipped size must be smaller than {MAX_CODE_BYTES} bytes")
    return base64.b64encode(digest.digest()).decode(), size


# -- running ----------------------------------------------------------------------------------


def run(
    function: Function,
    code: Path,
    event: Any,
    *,
    region: str,
    credentials: Credentials | None,
    endpoint_url: str | None,
    request_id: str | None = None,
    running: set[subprocess.Popen[bytes]] | None = None,
) -> Invocation:
    """Run one invocation of ``function`` in a new process; never raises for what the
    handler does (an error, a crash, a timeout: ``function_error`` says which)."""
    request_id = request_id or str(uuid.uuid4())
    started = time.time()
    env = {k: os.environ[k] for k in _INHERITED if k in os.environ}
    env.update(function.environment)
    env.update(
        {
            "AWS_REGION": region,
            "AWS_DEFAULT_REGION": region,
            "AWS_LAMBDA_FUNCTION_NAME": function.name,
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(function.memory_size),
            "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{function.name}",
            "AWS_LAMBDA_LOG_STREAM_NAME": request_id,
            "AWS_EXECUTION_ENV": f"AWS_Lambda_{function.runtime}",
            "LAMBDA_TASK_ROOT": str(code),
            "_HANDLER": function.handler,
            "PYTHONDONTWRITEBYTECODE": "1",
            "PYTHONUNBUFFERED": "1",
            # as in Lambda, no profile of the machine's user: boto3 sees only the role's keys
            "AWS_CONFIG_FILE": os.devnull,
            "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        }
    )
    if endpoint_url:
        env["AWS_ENDPOINT_URL"] = endpoint_url
    if credentials is not None:
        env["AWS_ACCESS_KEY_ID"] = credentials.access_key_id
        env["AWS_SECRET_ACCESS_KEY"] = credentials.secret_access_key
        env["AWS_SESSION_TOKEN"] = credentials.session_token
    with tempfile.TemporaryDirectory(prefix="lakebox-invocation-") as scratch:
        result_path = Path(scratch) / "result.json"
        env["LAKEBOX_INVOCATION_RESULT"] = str(result_path)
        env.setdefault("TMPDIR", scratch)
        request = {
            "handler": function.handler,
            "event": event,
            "request_id": request_id,
            "function_name": function.name,
            "function_arn": function.arn,
            "memory_size": function.memory_size,
            "deadline": started + function.timeout,
        }
        header = f"START RequestId: {request_id} Version: $LATEST\n"
        timed_out = False
        # the handler's output goes to a file, of which the log keeps the end: a handler
        # that prints without end fills a disk file, not the lake's memory
        output_path = Path(scratch) / "output.log"
        try:
            with open(output_path, "wb") as output:
                proc = subprocess.Popen(
                    [sys.executable, str(_WORKER)],
                    cwd=code,
                    env=env,
                    stdin=subprocess.PIPE,
                    stdout=output,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
        except OSError as exc:
            return _failed(request_id, "Runtime.StartError", str(exc), header, started)
        if running is not None:
            running.add(proc)  # the owner kills what is still running when it closes
        try:
            proc.communicate(json.dumps(request, default=str).encode(), timeout=function.timeout)
        except subprocess.TimeoutExpired:
            timed_out = True
            kill(proc)
            proc.communicate()
        finally:
            if running is not None:
                running.discard(proc)
        log = header + _tail(output_path)
        elapsed = time.time() - started
        if timed_out:
            stamp = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
            message = f"{stamp} {request_id} Task timed out after {function.timeout:.2f} seconds"
            return _failed(request_id, "Sandbox.Timedout", message, log + message + "\n", started)
        try:
            outcome = json.loads(result_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            message = (
                f"RequestId: {request_id} Error: Runtime exited with error: exit status "
                f"{proc.returncode}"
            )
            return _failed(request_id, "Runtime.ExitError", message, log, started)
    footer = f"END RequestId: {request_id}\nREPORT RequestId: {request_id}\tDuration: {elapsed * 1000:.2f} ms\n"
    if outcome.get("ok"):
        payload = json.dumps(outcome.get("payload"), default=str).encode()
        return Invocation(request_id, payload, None, log + footer, elapsed * 1000)
    error = {k: outcome.get(k) for k in ("errorMessage", "errorType", "stackTrace")}
    error["requestId"] = request_id
    return Invocation(
        request_id, json.dumps(error).encode(), "Unhandled", log + footer, elapsed * 1000
    )


def _tail(path: Path) -> str:
    """The last ``MAX_LOG`` bytes of an invocation's output."""
    with open(path, "rb") as f:
        size = f.seek(0, os.SEEK_END)
        f.seek(max(0, size - MAX_LOG))
        data = f.read()
    text = data.decode("utf-8", errors="replace")
    return f"[{size - MAX_LOG} bytes of output left out]\n{text}" if size > MAX_LOG else text


def _failed(request_id: str, kind: str, message: str, log: str, started: float) -> Invocation:
    payload = {"errorMessage": message, "errorType": kind, "requestId": request_id}
    return Invocation(
        request_id,
        json.dumps(payload).encode(),
        "Unhandled",
        log,
        (time.time() - started) * 1000,
    )


def kill(proc: subprocess.Popen[bytes]) -> None:
    """The function's process and whatever it started (its own session)."""
    import signal

    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        proc.kill()
