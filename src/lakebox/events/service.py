"""The lake's event bus: S3 bucket notifications, functions and EventBridge rules.

``EventService`` is the ``events`` service of the Lakehouse (the S3 operations' ``ObjectEvents``):
it keeps notification configurations, functions and rules in ``events.sqlite`` in the
metadata folder, and delivers events after the change they describe is durable, on one
worker thread fed by a bounded queue (a write never waits for a function to run). A
delivery that fails is logged and recorded (``failures``); a function invoked
asynchronously is retried twice, as Lambda retries an asynchronous invocation. ``close``
(the lake's) delivers what is queued and stops the thread.
"""

from __future__ import annotations

import collections
import datetime as dt
import itertools
import json
import logging
import queue
import re
import shutil
import subprocess
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lakebox.errors import (
    AlreadyExistsError,
    EntityNotFoundError,
    InvalidRequestError,
    LakeboxError,
)
from lakebox.events import functions as fn
from lakebox.events import patterns
from lakebox.events import s3 as s3events
from lakebox.metadata import sqlite as metadb
from lakebox.principal import LOCAL_ADMIN, Principal

if TYPE_CHECKING:
    from lakebox.iam.service import IamService
    from lakebox.ingest.streams import DeliveryStreams
    from lakebox.workflows.service import WorkflowService

log = logging.getLogger("lakebox.events")

#: events waiting for delivery; beyond it an event is dropped, logged and recorded
QUEUE_SIZE = 10_000
#: RequestResponse invocations running at once (one process each); past it Invoke is
#: throttled (TooManyRequestsException, 429), as Lambda's concurrency limit does
MAX_CONCURRENCY = 8
#: asynchronous invocations (Event invokes, rule and S3 deliveries to functions) running
#: at once, on threads of their own: a slow function never holds up the bus's thread
ASYNC_WORKERS = 4
#: failed deliveries kept (the oldest are deleted past it)
MAX_FAILURES = 10_000
#: Lambda retries a failed asynchronous invocation twice
ASYNC_RETRIES = 2
#: the wait between those retries (Lambda waits 1 then 2 minutes; a local lake less)
RETRY_DELAYS = (1.0, 2.0)
DEFAULT_BUS = "default"
RULE_NAME = re.compile(r"^[\.\-_A-Za-z0-9]{1,64}$")
TARGET_ID = re.compile(r"^[\.\-_A-Za-z0-9]{1,64}$")
MAX_TARGETS = 5
MAX_DETAIL_DEPTH = 100

MIGRATIONS: list[metadb.Migration] = [
    """
    CREATE TABLE IF NOT EXISTS notifications (
        bucket TEXT PRIMARY KEY,
        configuration TEXT NOT NULL
    );
    CREATE TABLE IF NOT EXISTS functions (
        name TEXT PRIMARY KEY,
        config TEXT NOT NULL
    );
    CREATE TABLE IF NOT EXISTS rules (
        name TEXT PRIMARY KEY,
        pattern TEXT NOT NULL,
        state TEXT NOT NULL,
        description TEXT NOT NULL,
        created REAL NOT NULL
    );
    CREATE TABLE IF NOT EXISTS targets (
        rule TEXT NOT NULL,
        id TEXT NOT NULL,
        target TEXT NOT NULL,
        PRIMARY KEY (rule, id)
    );
    CREATE TABLE IF NOT EXISTS failures (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        time REAL NOT NULL,
        source TEXT NOT NULL,
        target TEXT NOT NULL,
        attempts INTEGER NOT NULL,
        error TEXT NOT NULL
    );
    """
]


class RuleNotFoundError(EntityNotFoundError):
    code = "ResourceNotFoundException"


class EventsValidationError(InvalidRequestError):
    code = "ValidationException"


class TooManyInvocationsError(LakeboxError):
    """Lambda's throttling: the lake runs ``MAX_CONCURRENCY`` synchronous invocations at
    once (``TooManyRequestsException``, HTTP 429; the caller retries later)."""

    code = "TooManyRequestsException"


class EntryRefused(EventsValidationError):
    """A PutEvents entry refused with its own code (``NotAuthorizedForSourceException``);
    the others of the request are sent all the same."""

    def __init__(self, entry_code: str, message: str) -> None:
        super().__init__(message)
        self.entry_code = entry_code


@dataclass(frozen=True)
class Rule:
    name: str
    arn: str
    pattern: str
    state: str
    description: str

    def describe(self) -> dict[str, Any]:
        out = {
            "Name": self.name,
            "Arn": self.arn,
            "EventPattern": self.pattern,
            "State": self.state,
            "EventBusName": DEFAULT_BUS,
        }
        if self.description:
            out["Description"] = self.description
        return out


@dataclass(frozen=True)
class Failure:
    time: dt.datetime
    source: str
    target: str
    attempts: int
    error: str


@dataclass
class _Delivery:
    """One event on its way to one target."""

    source: str  # what sent it: "s3:<bucket>" or "rule:<name>"
    target: str  # an ARN
    event: Any
    attempt: int = 0
    not_before: float = 0.0


_STOP = object()


class EventService:
    """The bus. ``iam``, ``workflows``, ``streams`` are the lake's services, asked for when
    first needed; ``endpoint_url`` says where the lake is served (None when it is not)."""

    def __init__(
        self,
        metadata_dir: Path,
        *,
        account_id: str,
        region: str,
        iam: Callable[[], IamService],
        workflows: Callable[[], WorkflowService],
        streams: Callable[[], DeliveryStreams],
        endpoint_url: Callable[[], str | None] = lambda: None,
        max_concurrency: int = MAX_CONCURRENCY,
    ) -> None:
        self.metadata_dir = metadata_dir
        self.account_id = account_id
        self.region = region
        self._iam = iam
        self._workflows = workflows
        self._streams = streams
        self._endpoint_url = endpoint_url
        self.code_dir = metadata_dir / "functions"
        self._db = metadb.SQLiteStore(metadata_dir / "events.sqlite", MIGRATIONS, timeout=30)
        self._queue: queue.Queue[Any] = queue.Queue(QUEUE_SIZE)
        self._retries: list[_Delivery] = []
        self._lock = threading.Lock()
        self._worker: threading.Thread | None = None
        self._closed = False
        self._sequence = itertools.count()
        #: the function processes running now (killed if the lake closes before they end)
        self._running: set[subprocess.Popen[bytes]] = set()
        self.max_concurrency = max_concurrency
        self._slots = threading.BoundedSemaphore(max_concurrency)
        #: asynchronous invocations, off the bus's thread; and how many are waiting or running
        self._async: ThreadPoolExecutor | None = None
        self._async_pending = 0
        #: a function's asynchronous invocations waiting behind the one running (each
        #: function's run in the order they came, as a local lake's user expects)
        self._lanes: dict[str, collections.deque[tuple[fn.Function, _Delivery]]] = {}
        #: set when the lake closes after its wait: what has not started is not started
        self._stopping = False

    # -- S3 bucket notifications -------------------------------------------------------------
    def put_bucket_notification_configuration(
        self, bucket: str, configuration: dict[str, Any], *, principal: Principal = LOCAL_ADMIN
    ) -> None:
        """S3's PutBucketNotificationConfiguration: replaces the bucket's configuration (an
        empty one turns notifications off). Refused whole, as S3 does, when an entry is
        not valid or names a target the lake does not have."""
        _check_bucket(bucket)
        stored, _, _ = s3events.check_configuration(configuration, self._function_exists)
        with self._db.transaction() as con:
            if stored:
                con.execute(
                    "INSERT OR REPLACE INTO notifications VALUES (?, ?)",
                    (bucket, json.dumps(stored)),
                )
            else:
                con.execute("DELETE FROM notifications WHERE bucket = ?", (bucket,))

    def get_bucket_notification_configuration(
        self, bucket: str, *, principal: Principal = LOCAL_ADMIN
    ) -> dict[str, Any]:
        _check_bucket(bucket)
        row = (
            self._db.connection()
            .execute("SELECT configuration FROM notifications WHERE bucket = ?", (bucket,))
            .fetchone()
        )
        found: dict[str, Any] = json.loads(row[0]) if row else {}
        return found

    def object_event(
        self,
        name: str,
        bucket: str,
        key: str,
        *,
        size: int | None,
        etag: str | None,
        principal: Principal = LOCAL_ADMIN,
        request_id: str | None = None,
    ) -> None:
        """An object changed (and the change is durable): queue S3's events for the
        bucket's configuration. Never raises for a delivery; a lake with no configuration
        for the bucket pays one indexed read."""
        stored = self.get_bucket_notification_configuration(bucket)
        if not stored:
            return
        now = dt.datetime.now(dt.UTC)
        change = s3events.ObjectChange(
            name=name,
            bucket=bucket,
            key=key,
            size=size,
            etag=etag,
            principal_id=f"AWS:{principal.name}",
            account_id=principal.account_id,
            region=self.region,
            time=now,
            request_id=(request_id or uuid.uuid4().hex)[:16].upper(),
            sequencer=f"{time.time_ns():016X}{next(self._sequence) % 256:02X}",
        )
        for target in s3events.targets_of(stored):
            if target.wants(name, key):
                record = s3events.s3_record(change, target.id)
                self._enqueue(_Delivery(f"s3:{bucket}", target.arn, {"Records": [record]}))
        if "EventBridgeConfiguration" in stored:
            event = s3events.bridge_event(change)
            if event is not None:
                self._route(event)

    # -- functions ---------------------------------------------------------------------------
    def create_function(
        self,
        name: str,
        handler: str,
        *,
        code: Path | None = None,
        zip_bytes: bytes | None = None,
        role: str = "",
        runtime: str = "python3.12",
        timeout: int = 3,
        memory_size: int = 128,
        environment: dict[str, str] | None = None,
        description: str = "",
        principal: Principal = LOCAL_ADMIN,
    ) -> fn.Function:
        """Lambda's CreateFunction: the code is copied into the lake (a later change of
        the source does not change the function). ``role`` is the execution role whose
        credentials the handler gets; it must trust ``lambda.amazonaws.com``."""
        fn.check_name(name)
        env = fn.check_settings(handler, runtime, timeout, memory_size, environment)
        if role:
            self._check_role(role)
        if self._function_row(name) is not None:
            raise AlreadyExistsError(f"Function already exist: {name}")
        self.code_dir.mkdir(parents=True, exist_ok=True)
        target = self.code_dir / name
        digest, size = fn.install_code(target, source=code, zip_bytes=zip_bytes)
        function = fn.Function(
            name=name,
            arn=f"arn:aws:lambda:{self.region}:{self.account_id}:function:{name}",
            handler=handler,
            runtime=runtime,
            role=role,
            timeout=timeout,
            memory_size=memory_size,
            environment=env,
            description=description,
            code_sha256=digest,
            code_size=size,
            last_modified=dt.datetime.now(dt.UTC),
        )
        try:
            with self._db.transaction() as con:
                con.execute(
                    "INSERT INTO functions VALUES (?, ?)", (name, json.dumps(_dump(function)))
                )
        except Exception:
            shutil.rmtree(target, ignore_errors=True)
            raise
        return function

    def update_function_code(
        self,
        ref: str,
        *,
        code: Path | None = None,
        zip_bytes: bytes | None = None,
        principal: Principal = LOCAL_ADMIN,
    ) -> fn.Function:
        """Lambda's UpdateFunctionCode: the function's code replaced whole."""
        function = self.get_function(ref)
        digest, size = fn.install_code(
            self.code_dir / function.name, source=code, zip_bytes=zip_bytes
        )
        return self._save(
            replace(
                function,
                code_sha256=digest,
                code_size=size,
                last_modified=dt.datetime.now(dt.UTC),
            )
        )

    def update_function_configuration(
        self,
        ref: str,
        *,
        handler: str | None = None,
        role: str | None = None,
        runtime: str | None = None,
        timeout: int | None = None,
        memory_size: int | None = None,
        environment: dict[str, str] | None = None,
        description: str | None = None,
        principal: Principal = LOCAL_ADMIN,
    ) -> fn.Function:
        """Lambda's UpdateFunctionConfiguration: the settings given replace the
        function's; the others stay."""
        function = self.get_function(ref)
        changed = replace(
            function,
            handler=function.handler if handler is None else handler,
            role=function.role if role is None else role,
            runtime=function.runtime if runtime is None else runtime,
            timeout=function.timeout if timeout is None else timeout,
            memory_size=function.memory_size if memory_size is None else memory_size,
            environment=function.environment if environment is None else environment,
            description=function.description if description is None else description,
            last_modified=dt.datetime.now(dt.UTC),
        )
        env = fn.check_settings(
            changed.handler,
            changed.runtime,
            changed.timeout,
            changed.memory_size,
            changed.environment,
        )
        if role and role != function.role:
            self._check_role(role)
        return self._save(replace(changed, environment=env))

    def _save(self, function: fn.Function) -> fn.Function:
        with self._db.transaction() as con:
            con.execute(
                "UPDATE functions SET config = ? WHERE name = ?",
                (json.dumps(_dump(function)), function.name),
            )
        return function

    def get_function(self, ref: str, *, principal: Principal = LOCAL_ADMIN) -> fn.Function:
        """The function ``ref`` names (a name, or an ARN of the lake's account: every
        function is the lake account's)."""
        name = fn.function_name(ref, self.account_id)
        row = self._function_row(name)
        if row is None:
            raise fn.FunctionNotFoundError(
                f"Function not found: arn:aws:lambda:{self.region}:{self.account_id}:"
                f"function:{name}"
            )
        return row

    def list_functions(self, *, principal: Principal = LOCAL_ADMIN) -> list[fn.Function]:
        rows = self._db.connection().execute("SELECT config FROM functions ORDER BY name")
        return [_load(json.loads(r[0])) for r in rows.fetchall()]

    def delete_function(self, ref: str, *, principal: Principal = LOCAL_ADMIN) -> None:
        function = self.get_function(ref)
        with self._db.transaction() as con:
            con.execute("DELETE FROM functions WHERE name = ?", (function.name,))
        shutil.rmtree(self.code_dir / function.name, ignore_errors=True)

    def invoke(
        self,
        ref: str,
        event: Any = None,
        *,
        invocation_type: str = "RequestResponse",
        principal: Principal = LOCAL_ADMIN,
    ) -> fn.Invocation:
        """Lambda's Invoke. ``RequestResponse`` runs the handler and answers its result;
        ``Event`` queues it (retried twice on failure) and answers at once (status 202);
        ``DryRun`` only checks the function exists."""
        function = self.get_function(ref)
        if invocation_type == "RequestResponse":
            if not self._slots.acquire(blocking=False):
                raise TooManyInvocationsError(
                    f"Rate Exceeded. (the lake runs {self.max_concurrency} invocations at "
                    "once: retry later)"
                )
            try:
                return self._run(function, event)
            finally:
                self._slots.release()
        request_id = str(uuid.uuid4())
        if invocation_type == "Event":
            self._enqueue(_Delivery("invoke", function.arn, event))
        elif invocation_type != "DryRun":
            raise fn.FunctionError(
                f"1 validation error detected: Value '{invocation_type}' at 'invocationType' "
                "failed to satisfy constraint: Member must satisfy enum value set: "
                "[Event, RequestResponse, DryRun]"
            )
        return fn.Invocation(request_id, b"")

    def _run(self, function: fn.Function, event: Any) -> fn.Invocation:
        credentials = None
        if function.role:
            credentials = self._credentials(function)
        result = fn.run(
            function,
            self.code_dir / function.name,
            event,
            region=self.region,
            credentials=credentials,
            endpoint_url=self._endpoint_url(),
            running=self._running,
        )
        if result.function_error:
            log.info(
                "function %s failed (request %s): %s",
                function.name,
                result.request_id,
                (result.error or {}).get("errorMessage"),
            )
        return result

    def _credentials(self, function: fn.Function) -> fn.Credentials:
        from lakebox.iam.errors import AccessDenied

        account = function.role.split(":")[4] if function.role.count(":") >= 5 else ""
        lambda_principal = Principal(account, "lambda.amazonaws.com", "service")
        try:
            creds = self._iam().assume_role(
                lambda_principal, function.role, function.name, duration_seconds=900
            )
        except (AccessDenied, InvalidRequestError) as exc:
            raise fn.FunctionError(
                f"The role defined for the function cannot be assumed by Lambda. ({exc})"
            ) from None
        return fn.Credentials(creds.access_key_id, creds.secret_access_key, creds.session_token)

    def _check_role(self, role: str) -> None:
        if not re.match(r"^arn:aws:iam::\d{12}:role/.+$", role):
            raise fn.FunctionError(
                f"1 validation error detected: Value '{role}' at 'role' failed to satisfy "
                "constraint: Member must satisfy regular expression pattern: "
                "arn:(aws[a-zA-Z-]*)?:iam::\\d{12}:role/?[a-zA-Z_0-9+=,.@\\-_/]+"
            )
        # assuming it once says whether Lambda may (the session is not used)
        account = role.split(":")[4]
        from lakebox.iam.errors import AccessDenied

        try:
            self._iam().assume_role(
                Principal(account, "lambda.amazonaws.com", "service"),
                role,
                "lakebox-check",
                duration_seconds=900,
            )
        except (AccessDenied, InvalidRequestError):
            raise fn.FunctionError(
                "The role defined for the function cannot be assumed by Lambda."
            ) from None

    def _function_row(self, name: str) -> fn.Function | None:
        row = (
            self._db.connection()
            .execute("SELECT config FROM functions WHERE name = ?", (name,))
            .fetchone()
        )
        return _load(json.loads(row[0])) if row else None

    def _function_exists(self, arn: str) -> bool:
        try:
            name = fn.function_name(arn, self.account_id)
        except (fn.FunctionError, fn.FunctionNotFoundError):
            return False
        return self._function_row(name) is not None

    # -- EventBridge rules ---------------------------------------------------------------------
    def rule_arn(self, name: str) -> str:
        return f"arn:aws:events:{self.region}:{self.account_id}:rule/{name}"

    def put_rule(
        self,
        name: str,
        pattern: str,
        *,
        state: str = "ENABLED",
        description: str = "",
        principal: Principal = LOCAL_ADMIN,
    ) -> Rule:
        """EventBridge's PutRule on the default bus: creates the rule or replaces its
        pattern, state and description (its targets stay)."""
        _check_rule_name(name)
        patterns.parse_pattern(pattern)
        if state not in ("ENABLED", "DISABLED"):
            raise EventsValidationError(
                f"1 validation error detected: Value '{state}' at 'state' failed to satisfy "
                "constraint: Member must satisfy enum value set: [DISABLED, ENABLED]"
            )
        with self._db.transaction() as con:
            con.execute(
                "INSERT INTO rules VALUES (?, ?, ?, ?, ?) ON CONFLICT (name) DO UPDATE SET "
                "pattern = excluded.pattern, state = excluded.state, "
                "description = excluded.description",
                (name, pattern, state, description, time.time()),
            )
        return self.describe_rule(name)

    def describe_rule(self, name: str, *, principal: Principal = LOCAL_ADMIN) -> Rule:
        row = (
            self._db.connection()
            .execute("SELECT name, pattern, state, description FROM rules WHERE name = ?", (name,))
            .fetchone()
        )
        if row is None:
            raise RuleNotFoundError(f"Rule {name} does not exist on EventBus {DEFAULT_BUS}.")
        return Rule(row[0], self.rule_arn(row[0]), row[1], row[2], row[3])

    def list_rules(self, prefix: str = "", *, principal: Principal = LOCAL_ADMIN) -> list[Rule]:
        rows = (
            self._db.connection()
            .execute("SELECT name, pattern, state, description FROM rules ORDER BY name")
            .fetchall()
        )
        return [
            Rule(r[0], self.rule_arn(r[0]), r[1], r[2], r[3])
            for r in rows
            if r[0].startswith(prefix)
        ]

    def set_rule_state(
        self, name: str, enabled: bool, *, principal: Principal = LOCAL_ADMIN
    ) -> None:
        self.describe_rule(name)
        with self._db.transaction() as con:
            con.execute(
                "UPDATE rules SET state = ? WHERE name = ?",
                ("ENABLED" if enabled else "DISABLED", name),
            )

    def delete_rule(self, name: str, *, principal: Principal = LOCAL_ADMIN) -> None:
        """EventBridge refuses to delete a rule that still has targets."""
        with self._db.transaction() as con:
            if con.execute("SELECT 1 FROM targets WHERE rule = ?", (name,)).fetchone():
                raise EventsValidationError("Rule can't be deleted since it has targets.")
            con.execute("DELETE FROM rules WHERE name = ?", (name,))

    def put_targets(
        self, rule: str, targets: list[dict[str, Any]], *, principal: Principal = LOCAL_ADMIN
    ) -> list[dict[str, str]]:
        """EventBridge's PutTargets: adds or replaces targets by Id; answers the entries it
        could not put (``FailedEntries``): a target lakebox cannot deliver to is one."""
        self.describe_rule(rule)
        failed: list[dict[str, str]] = []
        kept: list[dict[str, Any]] = []
        for target in targets:
            ident, arn = target.get("Id"), target.get("Arn")
            if not isinstance(ident, str) or not TARGET_ID.match(ident):
                raise EventsValidationError(f"Target Id {ident!r} is not valid")
            if not isinstance(arn, str) or not arn.startswith("arn:"):
                raise EventsValidationError(f"Target Arn {arn!r} is not valid")
            problem = self._target_problem(target)
            if problem is not None:
                failed.append(
                    {"TargetId": ident, "ErrorCode": "ValidationException", "ErrorMessage": problem}
                )
                continue
            kept.append(
                {
                    k: target[k]
                    for k in ("Id", "Arn", "Input", "InputPath", "RoleArn")
                    if k in target
                }
            )
        with self._db.transaction() as con:
            present = {
                r[0]
                for r in con.execute("SELECT id FROM targets WHERE rule = ?", (rule,)).fetchall()
            }
            if len(present | {t["Id"] for t in kept}) > MAX_TARGETS:
                raise EventsValidationError(
                    f"The requested resource exceeds the maximum number allowed ({MAX_TARGETS} "
                    "targets per rule)."
                )
            for target in kept:
                con.execute(
                    "INSERT OR REPLACE INTO targets VALUES (?, ?, ?)",
                    (rule, target["Id"], json.dumps(target)),
                )
        return failed

    def _target_problem(self, target: dict[str, Any]) -> str | None:
        arn = str(target["Arn"])
        parts = arn.split(":")
        service = parts[2] if len(parts) > 2 else ""
        if service not in ("states", "firehose", "lambda"):
            return (
                f"lakebox delivers events to state machines, delivery streams and functions, "
                f"not to {arn}"
            )
        if "Input" in target and "InputPath" in target:
            return "Only one of Input, InputPath and InputTransformer may be given"
        if "Input" in target:
            try:
                json.loads(str(target["Input"]))
            except ValueError:
                return "Input is not valid JSON text"
        if "InputPath" in target and not re.match(
            r"^\$(\.[A-Za-z0-9_\-]+)*$", str(target["InputPath"])
        ):
            return f"InputPath {target['InputPath']} is not a supported JSONPath ($.a.b)"
        return None

    def remove_targets(
        self, rule: str, ids: list[str], *, principal: Principal = LOCAL_ADMIN
    ) -> list[dict[str, str]]:
        self.describe_rule(rule)
        with self._db.transaction() as con:
            for ident in ids:
                con.execute("DELETE FROM targets WHERE rule = ? AND id = ?", (rule, ident))
        return []

    def list_targets(
        self, rule: str, *, principal: Principal = LOCAL_ADMIN
    ) -> list[dict[str, Any]]:
        self.describe_rule(rule)
        rows = (
            self._db.connection()
            .execute("SELECT target FROM targets WHERE rule = ? ORDER BY id", (rule,))
            .fetchall()
        )
        return [json.loads(r[0]) for r in rows]

    def put_events(
        self, entries: list[dict[str, Any]], *, principal: Principal = LOCAL_ADMIN
    ) -> list[dict[str, str]]:
        """EventBridge's PutEvents: each entry answers its event id, or an error code for
        an entry that is not valid (the others are sent all the same)."""
        out: list[dict[str, str]] = []
        for entry in entries:
            try:
                event = self._event_of(entry, principal)
            except EntryRefused as exc:
                out.append({"ErrorCode": exc.entry_code, "ErrorMessage": str(exc)})
                continue
            except EventsValidationError as exc:
                out.append({"ErrorCode": "MalformedDetail", "ErrorMessage": str(exc)})
                continue
            self._route(event)
            out.append({"EventId": event["id"]})
        return out

    def _event_of(self, entry: dict[str, Any], principal: Principal) -> dict[str, Any]:
        bus = entry.get("EventBusName") or DEFAULT_BUS
        if bus not in (
            DEFAULT_BUS,
            f"arn:aws:events:{self.region}:{self.account_id}:event-bus/default",
        ):
            raise EntryRefused("ResourceNotFoundException", f"Event bus {bus} does not exist.")
        for member in ("Source", "DetailType", "Detail"):
            if not isinstance(entry.get(member), str) or not entry[member]:
                raise EventsValidationError(f"Parameter {member} is not valid.")
        if entry["Source"].startswith("aws."):
            # AWS services' events come from AWS: nobody may send one (S3's reach the bus
            # by the service's own path, never through PutEvents)
            raise EntryRefused(
                "NotAuthorizedForSourceException",
                f"Not authorized for the source {entry['Source']}.",
            )
        try:
            detail = json.loads(entry["Detail"])
        except (ValueError, RecursionError):
            raise EventsValidationError("Detail is malformed.") from None
        if not isinstance(detail, dict):
            raise EventsValidationError("Detail is malformed.")
        if _depth(detail) > MAX_DETAIL_DEPTH:
            # every target gets the event as JSON again: one too deep to write is refused
            raise EventsValidationError(
                f"Detail is malformed: nested more than {MAX_DETAIL_DEPTH} levels deep."
            )
        when = entry.get("Time")
        if not isinstance(when, dt.datetime):
            when = dt.datetime.now(dt.UTC)
        resources = entry.get("Resources") or []
        return {
            "version": "0",
            "id": str(uuid.uuid4()),
            "detail-type": entry["DetailType"],
            "source": entry["Source"],
            "account": principal.account_id,
            "time": when.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "region": self.region,
            "resources": list(resources),
            "detail": detail,
        }

    def _route(self, event: dict[str, Any]) -> None:
        """Queue ``event`` for the targets of every enabled rule it matches."""
        con = self._db.connection()
        rules = con.execute("SELECT name, pattern FROM rules WHERE state = 'ENABLED'").fetchall()
        for name, text in rules:
            if not patterns.matches(json.loads(text), event):
                continue
            for (raw,) in con.execute(
                "SELECT target FROM targets WHERE rule = ?", (name,)
            ).fetchall():
                target = json.loads(raw)
                self._enqueue(_Delivery(f"rule:{name}", target["Arn"], _input(target, event)))

    # -- delivery ------------------------------------------------------------------------------
    def _enqueue(self, delivery: _Delivery) -> None:
        with self._lock:
            if self._closed:
                self._record(delivery, "the lake was closing: the event was not delivered")
                return
            if self._worker is None:
                self._worker = threading.Thread(
                    target=self._deliver_loop, name="lakebox-events", daemon=True
                )
                self._worker.start()
        try:
            self._queue.put_nowait(delivery)
        except queue.Full:
            self._record(delivery, f"the event queue is full ({QUEUE_SIZE} events waiting)")

    def drain(self, timeout: float = 60.0) -> bool:
        """Wait until every queued event (and its retries) is delivered; whether it was
        within ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                idle = (
                    self._queue.unfinished_tasks == 0
                    and not self._retries
                    and self._async_pending == 0
                )
            if idle:
                return True
            time.sleep(0.02)
        return False

    def _deliver_loop(self) -> None:
        while True:
            try:
                item = self._queue.get(timeout=0.2)
            except queue.Empty:
                item = None
            if item is _STOP:
                self._queue.task_done()
                return
            if item is not None:
                try:
                    self._deliver(item)
                except Exception as exc:  # a worker that dies delivers nothing more
                    self._record(item, f"{type(exc).__name__}: {exc}")
                finally:
                    self._queue.task_done()
            self._requeue_due()

    def _requeue_due(self) -> None:
        now = time.monotonic()
        with self._lock:
            due = [d for d in self._retries if d.not_before <= now]
            self._retries = [d for d in self._retries if d.not_before > now]
        for delivery in due:
            try:
                self._queue.put_nowait(delivery)
            except queue.Full:
                self._record(delivery, "the event queue is full")

    def _deliver(self, delivery: _Delivery) -> None:
        arn = delivery.target
        service = arn.split(":")[2] if arn.count(":") >= 5 else ""
        if service == "lambda":
            try:
                function = self._function_row(fn.function_name(arn, self.account_id))
            except (fn.FunctionError, fn.FunctionNotFoundError):
                function = None
            if function is None:
                self._record(delivery, f"Function not found: {arn}")
                return
            with self._lock:
                full = self._async_pending >= QUEUE_SIZE
                if not full:
                    self._async_pending += 1
                    lane = self._lanes.get(function.name)
                    if lane is not None:  # behind the function's invocation under way
                        lane.append((function, delivery))
                        return
                    self._lanes[function.name] = collections.deque()
                    if self._async is None:
                        self._async = ThreadPoolExecutor(
                            ASYNC_WORKERS, thread_name_prefix="lakebox-functions"
                        )
                    pool = self._async
            if full:
                self._record(delivery, f"the event queue is full ({QUEUE_SIZE} events waiting)")
                return
            pool.submit(self._run_lane, function, delivery)
        elif service == "states":
            try:
                self._workflows().start_execution(arn, delivery.event, wait=False)
            except Exception as exc:
                self._record(delivery, f"{type(exc).__name__}: {exc}")
        elif service == "firehose":
            name = arn.rsplit("/", 1)[-1]
            try:
                self._streams().put_record(name, json.dumps(delivery.event) + "\n")
            except Exception as exc:
                self._record(delivery, f"{type(exc).__name__}: {exc}")
        else:
            self._record(delivery, f"lakebox cannot deliver to {arn}")

    def _run_lane(self, function: fn.Function, delivery: _Delivery) -> None:
        """A function's asynchronous invocations, one after the other, on a thread of the
        functions' pool."""
        while True:
            self._invoke_async(function, delivery)
            with self._lock:
                lane = self._lanes[function.name]
                if not lane:
                    del self._lanes[function.name]
                    return
                function, delivery = lane.popleft()

    def _invoke_async(self, function: fn.Function, delivery: _Delivery) -> None:
        """One asynchronous invocation, on the functions' pool: a failure is retried
        (twice, as Lambda does), then recorded."""
        try:
            if self._stopping:
                self._record(delivery, "the lake closed before the function was invoked")
                return
            try:
                result = self._run(function, delivery.event)
            except fn.FunctionError as exc:
                error = str(exc)
            else:
                if result.function_error is None:
                    return
                error = json.dumps(result.error)
            delivery.attempt += 1
            if delivery.attempt <= ASYNC_RETRIES and not self._closed:
                delivery.not_before = time.monotonic() + RETRY_DELAYS[delivery.attempt - 1]
                with self._lock:
                    self._retries.append(delivery)
                return
            self._record(delivery, error)
        except Exception as exc:  # a pool thread's error is nobody's: record it
            self._record(delivery, f"{type(exc).__name__}: {exc}")
        finally:
            with self._lock:
                self._async_pending -= 1

    def _record(self, delivery: _Delivery, error: str) -> None:
        log.warning(
            "event from %s to %s not delivered: %s", delivery.source, delivery.target, error
        )
        try:
            with self._db.transaction() as con:
                con.execute(
                    "INSERT INTO failures (time, source, target, attempts, error) "
                    "VALUES (?, ?, ?, ?, ?)",
                    (
                        time.time(),
                        delivery.source,
                        delivery.target,
                        max(1, delivery.attempt),
                        error[:4000],
                    ),
                )
                # the table is a recent history, not a log that grows without end
                con.execute(
                    "DELETE FROM failures WHERE seq <= (SELECT MAX(seq) FROM failures) - ?",
                    (MAX_FAILURES,),
                )
        except Exception:  # the log line above is what is left
            log.exception("could not record a failed delivery")

    def failures(self, limit: int = 100) -> list[Failure]:
        """The latest failed deliveries, newest first."""
        rows = (
            self._db.connection()
            .execute(
                "SELECT time, source, target, attempts, error FROM failures "
                "ORDER BY seq DESC LIMIT ?",
                (limit,),
            )
            .fetchall()
        )
        return [
            Failure(dt.datetime.fromtimestamp(r[0], dt.UTC), r[1], r[2], r[3], r[4]) for r in rows
        ]

    def close(self, timeout: float = 60.0) -> None:
        """Deliver what is queued (retries waiting for their turn are given up and
        recorded), then stop the worker thread and the functions' threads (a function
        still running is killed; one not started is recorded, not run)."""
        with self._lock:
            self._closed = True
            worker, self._worker = self._worker, None
        if worker is not None:
            self.drain_queue_only(timeout)
            with self._lock:
                self._stopping = True
                pending, self._retries = self._retries, []
            for delivery in pending:
                self._record(delivery, "the lake closed before the retry was due")
            for proc in list(self._running):  # still running after the wait: stopped
                fn.kill(proc)
            self._queue.put(_STOP)
            worker.join(timeout)
        with self._lock:
            self._stopping = True
            pool, self._async = self._async, None
        if pool is not None:
            pool.shutdown(wait=False)
            deadline = time.monotonic() + 10
            while self._async_pending and time.monotonic() < deadline:
                for proc in list(self._running):  # one started as the lake closed
                    fn.kill(proc)
                time.sleep(0.02)
            pool.shutdown(wait=True)
        self._db.close()

    def drain_queue_only(self, timeout: float) -> None:
        """Wait for the queue and the asynchronous invocations under way (not the retries
        waiting for their turn)."""
        deadline = time.monotonic() + timeout
        while (self._queue.unfinished_tasks or self._async_pending) and time.monotonic() < deadline:
            time.sleep(0.02)


def _depth(value: Any) -> int:
    """How deeply a decoded JSON value nests (without recursion)."""
    deepest = 0
    stack = [(value, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict | list):
            deepest = max(deepest, level)
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, level + 1) for child in children)
    return deepest


def _input(target: dict[str, Any], event: dict[str, Any]) -> Any:
    if "Input" in target:
        return json.loads(target["Input"])
    path = target.get("InputPath")
    if path:
        value: Any = event
        for part in path.split(".")[1:]:
            value = value.get(part) if isinstance(value, dict) else None
        return value
    return event


def _check_bucket(bucket: Any) -> None:
    from lakebox.errors import InvalidLocationError
    from lakebox.storage.uri import object_uri

    if not isinstance(bucket, str) or not bucket:
        raise s3events.InvalidNotificationError("Bucket is required")
    try:
        object_uri(bucket, "x")
    except InvalidLocationError as exc:
        raise s3events.InvalidNotificationError(str(exc)) from None


def _check_rule_name(name: Any) -> None:
    if not isinstance(name, str) or not RULE_NAME.match(name):
        raise EventsValidationError(
            f"1 validation error detected: Value '{name}' at 'name' failed to satisfy "
            "constraint: Member must satisfy regular expression pattern: [\\.\\-_A-Za-z0-9]+"
        )


def _dump(function: fn.Function) -> dict[str, Any]:
    return {
        "name": function.name,
        "arn": function.arn,
        "handler": function.handler,
        "runtime": function.runtime,
        "role": function.role,
        "timeout": function.timeout,
        "memory_size": function.memory_size,
        "environment": function.environment,
        "description": function.description,
        "code_sha256": function.code_sha256,
        "code_size": function.code_size,
        "last_modified": function.last_modified.isoformat(),
    }


def _load(raw: dict[str, Any]) -> fn.Function:
    return fn.Function(**{**raw, "last_modified": dt.datetime.fromisoformat(raw["last_modified"])})
