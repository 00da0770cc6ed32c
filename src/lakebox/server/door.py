"""The HTTP door: one request in, one AWS-shaped answer out.

Every request is routed to a service (the SigV4 credential scope's service, else the
``X-Amz-Target`` prefix, else the path), authenticated by the lake's IAM service (nothing
answers without a verified signature but the health check), parsed with the service's
protocol from botocore's model (a member the operation's input shape does not have is
refused), and dispatched through the API layer's operation table with a context carrying
the verified principal; the API layer authorises it as ``<prefix>:<Operation>`` on the
resources the operation itself declares (the same check every door gets).
Whatever fails becomes the service's error shape; no traceback reaches a client.

Blocking work (signature checks against the metadata store, queries, crawls) runs on
worker threads, never on the event loop.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import sys
import threading
import time
import traceback
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, unquote

from lakebox.api import SERVICES, AwsError, dispatch
from lakebox.api.context import ServiceContext
from lakebox.errors import LakeboxError
from lakebox.iam.sigv4 import AuthError, SignedRequest, check_time, protocol_of, read_signature
from lakebox.server.models import (
    SERVED,
    BadRequest,
    Catalogue,
    Service,
    from_json,
    missing_required,
    to_json,
)
from lakebox.server.query import (
    MAX_PARAMETERS,
    error_xml,
    escape,
    parse_structure,
    response_xml,
)
from lakebox.server.restjson import RestJsonRoutes, parse_request

if TYPE_CHECKING:
    from botocore.model import OperationModel

    from lakebox.iam.sigv4 import Caller
    from lakebox.lakehouse import Lakehouse

#: the largest request body the door reads: Firehose's PutRecordBatch carries at most 4 MiB
#: of records, base64-encoded in JSON (4/3 of that, and the JSON around it)
MAX_BODY_BYTES = 6 * 1024 * 1024
#: the largest body of a request that carries no signature at all (it will be refused; the
#: body is read only to find the query-protocol service it names, for the error's shape)
UNSIGNED_MAX_BODY_BYTES = 64 * 1024

#: the lake's services a handler may reach through its context (``ServiceContext.provider``)
LAKE_SERVICES = frozenset(
    {
        "queries",
        "crawlers",
        "glue_jobs",
        "streams",
        "exports",
        "snapshots",
        "storage",
        "workflows",
        "iam",
        "catalog",
        "visibility",
        "events",
        "secrets",
        "sns",
        "lakeformation",
        "lake_permissions",
    }
)

_SCOPE = re.compile(r"Credential=([^,\s]+)")
#: a region as AWS names them
_REGION = re.compile(r"[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-[0-9]{1,2}")
#: a ``%`` not followed by two hex digits (a form or query string that is not encoded)
_BAD_ESCAPE = re.compile(r"%(?![0-9A-Fa-f]{2})")
#: bytes that were not UTF-8 on the wire (the app decodes them as surrogate escapes)
_RAW_BYTES = re.compile("[\udc80-\udcff]")
#: headers the door reads, which a request may carry once only (with two, which one the
#: signature covered and which one routing read could differ)
_SINGLE_HEADERS = frozenset(
    {
        "authorization",
        "x-amz-target",
        "x-amz-date",
        "x-amz-security-token",
        "x-amz-content-sha256",
        "content-type",
        "host",
    }
)

#: services whose signatures botocore scopes to us-east-1 whatever the client's region


#: the validation code of a service whose API layer does not name one
_DEFAULT_INVALID = "ValidationException"

#: services whose "denied" code is IAM's own (the JSON services answer AccessDeniedException)
_ACCESS_DENIED = {"iam": "AccessDenied", "sts": "AccessDenied", "rds": "AccessDenied"}


@dataclass
class Answer:
    """An HTTP answer, before Starlette makes it a response."""

    status: int
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Incoming:
    """What the door needs of an HTTP request (Starlette-free, so it is easy to test)."""

    method: str
    raw_path: str
    query: str
    headers: tuple[tuple[str, str], ...]
    body: bytes

    def header(self, name: str) -> str | None:
        lname = name.lower()
        for key, value in self.headers:
            if key.lower() == lname:
                return value
        return None

    @property
    def path(self) -> str:
        return unquote(self.raw_path)


@dataclass
class Outcome:
    """What one request came to, for the log line."""

    request_id: str
    service: str = ""
    operation: str = ""
    principal: str = ""
    code: str = ""
    #: the service the request was routed to, once known (its error shape is used)
    routed: Service | None = None


def credential_scope_service(request: Incoming) -> str | None:
    """The service of the SigV4 credential scope (``AKID/date/region/service/aws4_request``)
    in the Authorization header or the presigned URL's ``X-Amz-Credential``."""
    auth = request.header("authorization")
    credential = None
    if auth:
        found = _SCOPE.search(auth)
        credential = found.group(1) if found else None
    if credential is None and request.query:
        for key, value in parse_qsl(request.query, keep_blank_values=True):
            if key == "X-Amz-Credential":
                credential = value
                break
    if credential is None:
        return None
    parts = credential.split("/")
    return parts[3] if len(parts) == 5 else None


class Door:
    """Answers AWS API requests for one lake (the Lakehouse: the door builds no service)."""

    def __init__(
        self, lake: Lakehouse, log: Callable[[dict[str, Any]], None] | None = None
    ) -> None:
        self.lake = lake
        self.catalogue = Catalogue()
        self.log = log or _log_line
        #: crawls started through Glue's StartCrawler, shared by every request's context
        self.crawl_threads: dict[str, threading.Thread] = {}
        self._rest: dict[str, RestJsonRoutes] = {}
        self._rest_lock = threading.Lock()

    # -- routing ---------------------------------------------------------------------------
    def route(self, request: Incoming) -> tuple[Service | None, str | None]:
        """The service a request is for, and the signing name it asked for when that is a
        service lakebox does not serve."""
        scope = credential_scope_service(request)
        if scope is not None:
            service = self.catalogue.by_signing_name(scope)
            return service, None if service is not None else scope
        target = request.header("x-amz-target")
        if target:
            service = self.catalogue.by_target(target)
            if service is not None:
                return service, None
        return self._by_path(request), None

    def _by_path(self, request: Incoming) -> Service | None:
        """An unsigned request names its service only by what it asks for: a REST path of
        a REST-JSON service, or a query-protocol Action one of the models knows."""
        try:
            rest = self.catalogue.by_signing_name("scheduler")
            if rest is not None and self.rest_routes(rest).match(
                request.method, request.path, _query(request)
            ):
                return rest
            action = self._form(request).get("Action")
        except BadRequest:
            return None
        if action:
            for signing in ("sts", "iam", "rds"):
                service = self.catalogue.by_signing_name(signing)
                if service is not None and service.operation(action) is not None:
                    return service
        return None

    def rest_routes(self, service: Service) -> RestJsonRoutes:
        with self._rest_lock:
            routes = self._rest.get(service.signing_name)
            if routes is None:
                routes = self._rest[service.signing_name] = RestJsonRoutes(service)
            return routes

    @staticmethod
    def _form(request: Incoming) -> dict[str, str]:
        """A query-protocol request's parameters: the form body and the query string. A
        name given twice, a broken percent-escape or text that is not UTF-8 is refused
        (which of two values counts would be a guess)."""
        pairs = _form_pairs(request.query, "query string")
        ctype = (request.header("content-type") or "").lower()
        if request.body and (ctype.startswith("application/x-www-form-urlencoded") or not ctype):
            try:
                text = request.body.decode("utf-8")
            except UnicodeDecodeError:
                raise BadRequest("the form body is not UTF-8") from None
            pairs += _form_pairs(text, "form body")
        if len(pairs) > MAX_PARAMETERS:
            raise BadRequest(f"the request has more than {MAX_PARAMETERS} parameters")
        params: dict[str, str] = {}
        for key, value in pairs:
            if key in params:
                raise BadRequest(f"the parameter {key[:64]!r} is given more than once")
            params[key] = value
        return params

    # -- before the body is read ---------------------------------------------------------------
    @staticmethod
    def signed(request: Incoming) -> bool:
        """Whether the request carries a signature (a header one or a presigned URL's)."""
        return request.header("authorization") is not None or "X-Amz-Credential" in (
            request.query or ""
        )

    @staticmethod
    def is_long(request: Incoming) -> bool:
        """A request that holds its worker for a long time (StartSyncExecution runs its
        execution to the end, up to Express's 5 minutes)."""
        return (request.header("x-amz-target") or "").endswith(".StartSyncExecution")

    def before_body(self, request: Incoming) -> Answer | None:
        """The answer to a signed request whose signature can be refused from its headers
        alone (malformed, out of time, an access key the lake does not know), before its
        body is read; None when the body is worth reading. Consults the identity store
        (one key look-up): call it on a worker thread."""
        twice = _repeated_header(request)
        if twice is not None:
            # in the routed service's validation code
            return self.refuse(request, 400, "", f"the header {twice!r} is given more than once")
        if not self.signed(request):
            return None
        try:
            return self._before_body(request)
        except Exception as exc:  # the full check answers (or logs) it
            self.log({"event": "before-body-error", "error": f"{type(exc).__name__}: {exc}"})
            return None

    def _before_body(self, request: Incoming) -> Answer | None:
        outcome = Outcome(request_id=str(uuid.uuid4()))
        service, unserved = self.route(request)
        signing = service.signing_name if service is not None else unserved
        try:
            sig = read_signature(self._signed(request))
            if service is not None and sig.service != service.signing_name:
                return None  # the full check names it, in the routed service's words
            now = dt.datetime.now(dt.UTC)
            check_time(sig, now)
            self.check_region(sig.region, sig.service, sig.protocol)
            # an unknown (or inactive) key is refused before up to MAX_BODY_BYTES are read
            self.lake.iam.check_key(sig, now)
        except AuthError as exc:
            exc = exc.for_protocol(protocol_of(signing or "sts"))
            outcome.service = service.name if service is not None else ""
            if service is not None:
                answer = self._error(service, outcome, exc.code, str(exc), exc.status)
            else:
                answer = self._plain_error(outcome, exc.status, exc.code, str(exc), unserved)
            self._log_answer(request, outcome, answer, time.monotonic())
            return answer
        return None

    def check_region(self, region: str, signing: str, protocol: Any) -> None:
        """Raise AuthError unless a signature's scope names a region, in AWS's form
        (``us-east-1``, ``ap-northeast-1``, ``us-gov-west-1``).

        AWS refuses a request signed for another region than the endpoint's; lakebox
        deliberately does not (docs/server.md): a lake serves one region, and scripts copied
        from AWS's documentation name whatever region they were written in. The signature
        still covers the scope's region, and every resource the request makes is in the
        lake's region."""
        if _REGION.fullmatch(region):
            return
        raise AuthError(
            "bad-signature",
            f"Credential should be scoped to a valid region, not {region!r}",
            protocol,
        )

    def refuse(self, request: Incoming, status: int, code: str, message: str) -> Answer:
        """An error answered without reading (all of) the body -- too large, too slow --
        in the shape of the service the request was routed to (``code`` empty: the
        service's validation code)."""
        outcome = Outcome(request_id=str(uuid.uuid4()))
        try:
            service, unserved = self.route(request)
        except BadRequest:
            service, unserved = None, None
        if service is not None:
            outcome.service = service.name
            code = code or self._invalid(service)
            answer = self._error(service, outcome, code, message, status)
        else:
            code = code or "InvalidRequest"
            answer = self._plain_error(outcome, status, code, message, unserved)
        self._log_answer(request, outcome, answer, time.monotonic())
        return answer

    def _log_answer(
        self, request: Incoming, outcome: Outcome, answer: Answer, started: float
    ) -> None:
        answer.headers.setdefault("x-amzn-requestid", outcome.request_id)
        answer.headers.setdefault("x-amz-request-id", outcome.request_id)
        self.log(
            {
                "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                "request_id": outcome.request_id,
                "method": request.method,
                "path": request.raw_path,
                "service": outcome.service,
                "operation": outcome.operation,
                "principal": outcome.principal,
                "status": answer.status,
                "error": outcome.code or None,
                "duration_ms": round((time.monotonic() - started) * 1000, 1),
            }
        )

    # -- the request -----------------------------------------------------------------------
    def handle(self, request: Incoming) -> Answer:
        """Answer one request (on a worker thread: it may block)."""
        started = time.monotonic()
        outcome = Outcome(request_id=str(uuid.uuid4()))
        try:
            answer = self._handle(request, outcome)
        except Exception as exc:  # the last line of defence: never a traceback to a client
            self.log(
                {
                    "event": "internal-error",
                    "request_id": outcome.request_id,
                    "error": f"{type(exc).__name__}: {exc}",
                    "traceback": traceback.format_exc(),
                }
            )
            message = f"internal error (request {outcome.request_id}; see the server's log)"
            if outcome.routed is not None:
                answer = self._error(outcome.routed, outcome, "InternalFailure", message, 500)
            else:
                answer = self._plain_error(outcome, 500, "InternalFailure", message)
        self._log_answer(request, outcome, answer, started)
        return answer

    def _handle(self, request: Incoming, outcome: Outcome) -> Answer:
        service, unserved = self.route(request)
        if service is None:
            if unserved is not None:
                # even "not served" is said only to a caller whose signature checks out
                try:
                    caller = self.lake.iam.authenticate(self._signed(request))
                except AuthError as exc:
                    exc = exc.for_protocol(protocol_of(unserved))
                    return self._plain_error(outcome, exc.status, exc.code, str(exc), unserved)
                outcome.principal = caller.principal.arn
                return self._plain_error(
                    outcome,
                    400 if unserved != "s3" else 501,
                    "NotImplemented" if unserved == "s3" else "UnknownServiceException",
                    f"lakebox serves no AWS service {unserved!r} over HTTP yet "
                    f"(served: {', '.join(sorted(SERVED))})",
                    unserved,
                )
            # nothing names a service: an unsigned request lakebox cannot place
            return self._plain_error(
                outcome, 403, "MissingAuthenticationToken", "Missing Authentication Token"
            )
        outcome.service = service.name
        outcome.routed = service
        try:
            caller = self.lake.iam.authenticate(
                self._signed(request), expected_service=service.signing_name
            )
        except AuthError as exc:
            # in the error codes of the service the door routed to (a request with no
            # signature names no service of its own)
            exc = exc.for_protocol(protocol_of(service.signing_name))
            return self._error(service, outcome, exc.code, str(exc), exc.status)
        outcome.principal = caller.principal.arn
        try:
            self.check_region(caller.region, service.signing_name, "json")
        except AuthError as exc:
            exc = exc.for_protocol(protocol_of(service.signing_name))
            return self._error(service, outcome, exc.code, str(exc), exc.status)
        try:
            operation, params = self._parse(service, request, outcome)
        except AwsError as exc:
            return self._error(service, outcome, exc.code, str(exc))
        except BadRequest as exc:
            return self._error(service, outcome, self._invalid(service), str(exc))
        op_model = service.operation(operation)
        assert op_model is not None, "the parser checked the operation"
        context = self._context(caller)
        context.request_id = outcome.request_id
        try:
            result = dispatch(service.name, operation, params, context)
        except AwsError as exc:
            status = None
            if exc.code in ("AccessDenied", "AccessDeniedException"):
                status = 403 if service.name in _ACCESS_DENIED else 400
            return self._error(service, outcome, exc.code, str(exc), status)
        except LakeboxError as exc:
            return self._error(service, outcome, exc.code, str(exc))
        return self._answer(service, op_model, result, outcome)

    @staticmethod
    def _signed(request: Incoming) -> SignedRequest:
        return SignedRequest(
            method=request.method,
            path=request.raw_path,
            query=request.query,
            headers=request.headers,
            body=request.body,
        )

    def _context(self, caller: Caller) -> ServiceContext:
        lake = self.lake

        def provide(name: str) -> Any:
            if name not in LAKE_SERVICES:
                raise LookupError(name)
            return getattr(lake, name)

        return ServiceContext(
            principal=caller.principal,
            account_id=caller.principal.account_id,
            region=lake.config.region,
            crawl_threads=self.crawl_threads,
            provider=provide,
        )

    @staticmethod
    def _invalid(service: Service) -> str:
        api = SERVICES.get(service.name)
        return api.invalid if api is not None else _DEFAULT_INVALID

    # -- protocols ---------------------------------------------------------------------------
    def _parse(
        self, service: Service, request: Incoming, outcome: Outcome
    ) -> tuple[str, dict[str, Any]]:
        protocol = service.protocol
        if protocol == "json":
            return self._parse_json(service, request, outcome)
        if protocol == "rest-json":
            return self._parse_rest_json(service, request, outcome)
        if protocol == "query":
            return self._parse_query(service, request, outcome)
        raise AwsError("UnknownOperationException", f"lakebox does not speak {protocol!r}")

    def _operation(self, service: Service, name: str, outcome: Outcome) -> OperationModel:
        outcome.operation = name
        op = service.operation(name)
        api = SERVICES.get(service.name)
        if op is None or api is None or name not in api.operations:
            code = "InvalidAction" if service.protocol == "query" else "UnknownOperationException"
            known = ", ".join(sorted(api.operations)) if api is not None else "none yet"
            why = "is not an operation of" if op is None else "is not served by lakebox for"
            raise AwsError(code, f"{name!r} {why} {service.name} (lakebox serves: {known})")
        return op

    def _parse_json(
        self, service: Service, request: Incoming, outcome: Outcome
    ) -> tuple[str, dict[str, Any]]:
        target = request.header("x-amz-target") or ""
        prefix, _, name = target.rpartition(".")
        if not target or prefix != service.target_prefix:
            raise AwsError(
                "UnknownOperationException",
                f"X-Amz-Target {target!r} names no {service.name} operation "
                f"(expected {service.target_prefix}.<Operation>)",
            )
        op = self._operation(service, name, outcome)
        doc = _json_body(request.body) if request.body.strip() else {}
        if not isinstance(doc, dict):
            raise BadRequest("the request body must be a JSON object")
        return name, _required(op, from_json(op.input_shape, doc))

    def _parse_rest_json(
        self, service: Service, request: Incoming, outcome: Outcome
    ) -> tuple[str, dict[str, Any]]:
        query = _query(request)
        found = self.rest_routes(service).match(request.method, request.path, query)
        if found is None:
            raise AwsError(
                "UnknownOperationException",
                f"{request.method} {request.path} is no {service.name} operation",
            )
        name, labels = found
        op = self._operation(service, name, outcome)
        headers = {k.lower(): v for k, v in request.headers}
        return name, _required(
            op, parse_request(op, labels, query, headers, request.body, _json_body)
        )

    def _parse_query(
        self, service: Service, request: Incoming, outcome: Outcome
    ) -> tuple[str, dict[str, Any]]:
        params = self._form(request)
        name = params.get("Action")
        if not name:
            raise AwsError("MissingAction", "the request has no Action parameter")
        op = self._operation(service, name, outcome)
        return name, _required(op, parse_structure(op.input_shape, params))

    def _answer(
        self, service: Service, op: OperationModel, result: dict[str, Any], outcome: Outcome
    ) -> Answer:
        protocol = service.protocol
        if protocol == "query":
            text = response_xml(
                op.name, op.output_shape, result, outcome.request_id, service.xml_namespace
            )
            return Answer(200, text.encode("utf-8"), {"content-type": "text/xml"})
        headers: dict[str, str] = {}
        status = int(op.http.get("responseCode", 200) or 200)
        shape = op.output_shape
        doc = result
        if protocol == "rest-json" and shape is not None:
            doc = {}
            members = shape.members
            for key, value in result.items():
                mshape = members.get(key)
                where = mshape.serialization.get("location") if mshape is not None else None
                if where == "header":
                    headers[str(mshape.serialization.get("name") or key)] = str(value)
                elif where == "statusCode":
                    status = int(value)
                else:
                    doc[key] = value
            payload = shape.serialization.get("payload")
            if payload and shape.members[payload].type_name == "blob":
                # the body is the member's bytes (Lambda's Invoke answers its payload so)
                raw = doc.get(payload) or b""
                headers["content-type"] = _json_type(service)
                return Answer(status, bytes(raw), headers)
        body = json.dumps(to_json(shape, doc), separators=(",", ":"), default=str).encode("utf-8")
        headers["content-type"] = _json_type(service)
        return Answer(status, body, headers)

    def _error(
        self, service: Service, outcome: Outcome, code: str, message: str, status: int | None = None
    ) -> Answer:
        outcome.code = code
        status = status or service.status(code)
        if service.protocol == "query":
            text = error_xml(code, message, outcome.request_id, sender=status < 500)
            return Answer(status, text.encode("utf-8"), {"content-type": "text/xml"})
        body = json.dumps({"__type": code, "message": message, "Message": message}).encode("utf-8")
        return Answer(status, body, {"content-type": _json_type(service), "x-amzn-errortype": code})

    @staticmethod
    def _plain_error(
        outcome: Outcome, status: int, code: str, message: str, unserved: str | None = None
    ) -> Answer:
        """An error for a request no served service could be found for: S3's XML error
        shape for S3 (what its clients read), else JSON, as the JSON services (most of what
        is served) answer."""
        outcome.code = code
        if unserved == "s3":
            text = (
                '<?xml version="1.0" encoding="UTF-8"?>\n'
                f"<Error><Code>{escape(code)}</Code><Message>{escape(message)}</Message>"
                f"<RequestId>{escape(outcome.request_id)}</RequestId></Error>"
            )
            return Answer(status, text.encode("utf-8"), {"content-type": "application/xml"})
        body = json.dumps({"__type": code, "message": message}).encode("utf-8")
        return Answer(
            status, body, {"content-type": "application/x-amz-json-1.1", "x-amzn-errortype": code}
        )

    def close(self, timeout: float = 30.0) -> None:
        """Wait for crawls the server started (they write the catalog) before the lake
        closes."""
        deadline = time.monotonic() + timeout
        for thread in list(self.crawl_threads.values()):
            thread.join(max(0.0, deadline - time.monotonic()))


def _repeated_header(request: Incoming) -> str | None:
    seen: set[str] = set()
    for key, _ in request.headers:
        name = key.lower()
        if name in _SINGLE_HEADERS:
            if name in seen:
                return name
            seen.add(name)
    return None


def _form_pairs(text: str, what: str) -> list[tuple[str, str]]:
    if _BAD_ESCAPE.search(text):
        raise BadRequest(f"the {what} has a broken percent-escape (% not followed by 2 hex digits)")
    if _RAW_BYTES.search(text):
        raise BadRequest(f"the {what} is not UTF-8")
    try:
        return parse_qsl(
            text, keep_blank_values=True, max_num_fields=MAX_PARAMETERS, errors="strict"
        )
    except UnicodeDecodeError:
        raise BadRequest(f"the {what} is not UTF-8 once percent-decoded") from None
    except ValueError:
        raise BadRequest(f"the request has more than {MAX_PARAMETERS} parameters") from None


def _query(request: Incoming) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for key, value in _form_pairs(request.query, "query string"):
        out.setdefault(key, []).append(value)
    return out


def _required(op: OperationModel, params: dict[str, Any]) -> dict[str, Any]:
    """``params``, unless a member the model requires is missing (AWS's message)."""
    missing = missing_required(op.input_shape, params)
    if missing is not None:
        name = missing[0].lower() + missing[1:]
        raise BadRequest(
            f"1 validation error detected: Value null at '{name}' failed to satisfy "
            "constraint: Member must not be null"
        )
    return params


def _json_type(service: Service) -> str:
    if service.protocol == "rest-json":
        return "application/json"
    version = service.model.metadata.get("jsonVersion") or "1.1"
    return f"application/x-amz-json-{version}"


def _no_constant(name: str) -> Any:
    raise BadRequest(f"the request body holds {name}, which JSON does not have")


def _json_body(body: bytes) -> Any:
    try:
        return json.loads(body, parse_constant=_no_constant)
    except UnicodeDecodeError:
        raise BadRequest("the request body is not UTF-8 JSON") from None
    except json.JSONDecodeError as exc:
        raise BadRequest(
            f"the request body is not JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
        ) from None
    except RecursionError:
        raise BadRequest("the request body is JSON nested too deeply to read") from None
    except ValueError as exc:  # an integer of more digits than Python converts
        raise BadRequest(f"the request body holds a value lakebox cannot read: {exc}") from None


def _log_line(record: dict[str, Any]) -> None:
    """One JSON line per event on stderr (a log shipper's favourite shape)."""
    sys.stderr.write(json.dumps(record, default=str) + "\n")
    sys.stderr.flush()
