"""The process one function invocation runs in (run as a script, never imported by lakebox:
it imports nothing of lakebox, so a handler starts as fast as Python and its own imports).

It reads the invocation (handler, event, request id, deadline) as JSON on stdin, imports
the handler from the function's code folder (the working directory, first on
``sys.path``), calls it with the event and a Lambda-style context object, and writes the
outcome as JSON to the file named by ``LAKEBOX_INVOCATION_RESULT``: ``{"ok": true,
"payload": ...}`` or ``{"ok": false, "errorMessage", "errorType", "stackTrace"}``, as
Lambda's Python runtime reports an unhandled error. What the handler prints goes to the
invocation's log.
"""

import importlib
import json
import os
import sys
import time
import traceback
from typing import Any


class LambdaContext:
    """What Lambda's Python runtime passes as ``context``."""

    def __init__(self, request: dict) -> None:
        self.aws_request_id = request["request_id"]
        self.function_name = request["function_name"]
        self.function_version = "$LATEST"
        self.invoked_function_arn = request["function_arn"]
        self.memory_limit_in_mb = str(request.get("memory_size", 128))
        self.log_group_name = f"/aws/lambda/{self.function_name}"
        self.log_stream_name = request["request_id"]
        self.identity = None
        self.client_context = None
        self._deadline = float(request["deadline"])

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.time()) * 1000))


def _split(handler: str) -> tuple[str, str]:
    if ":" in handler:
        module_name, _, attr = handler.partition(":")
    else:
        module_name, _, attr = handler.rpartition(".")
    return module_name.replace("/", "."), attr


def _failed(message: str, kind: str) -> dict[str, Any]:
    return {"ok": False, "errorMessage": message, "errorType": kind, "stackTrace": []}


def main() -> int:
    result_path = os.environ.pop("LAKEBOX_INVOCATION_RESULT")
    # the script's own folder is not the function's: its code folder is
    sys.path[0] = os.getcwd()
    request = json.loads(sys.stdin.read())
    outcome: dict
    try:
        module_name, attr = _split(request["handler"])
        try:
            module = importlib.import_module(module_name)
        except Exception as exc:  # Lambda's Runtime.ImportModuleError
            outcome = _failed(
                f"Unable to import module '{module_name}': {exc}", "Runtime.ImportModuleError"
            )
        else:
            function = getattr(module, attr, None)
            if function is None:
                outcome = _failed(
                    f"Handler '{attr}' missing on module '{module_name}'",
                    "Runtime.HandlerNotFound",
                )
            else:
                payload = function(request["event"], LambdaContext(request))
                try:
                    json.dumps(payload)
                except (TypeError, ValueError) as exc:  # Lambda cannot send it back either
                    outcome = _failed(f"Unable to marshal response: {exc}", "Runtime.MarshalError")
                else:
                    outcome = {"ok": True, "payload": payload}
    except Exception as exc:
        tb = traceback.extract_tb(exc.__traceback__)
        outcome = {
            "ok": False,
            "errorMessage": str(exc),
            "errorType": type(exc).__name__,
            "stackTrace": traceback.format_list(tb[1:]),
        }
        traceback.print_exc()
    with open(result_path, "w", encoding="utf-8") as out:
        json.dump(outcome, out, default=str)
    return 0


if __name__ == "__main__":
    sys.exit(main())
