"""Task resources: the registry, SNS sinks against real loopback servers, ECS commands run as
real processes, aws-sdk dispatch."""

from __future__ import annotations

import json
import socketserver
import sys
import threading
import uuid
from collections.abc import Iterator
from email import message_from_bytes
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import pytest

from lakebox.workflows.asl.validate import find_problems
from lakebox.workflows.service import WorkflowService
from lakebox.workflows.tasks import DEFAULT_REGISTRY, register_resource
from lakebox.workflows.tasks.notify import LogFileSink, SmtpSink, WebhookSink
from lakebox.workflows.tasks.registry import IntegrationPattern, TaskContext, split_resource
from workflows.helpers import Runner, machine

SNS = "arn:aws:states:::sns:publish"
TOPIC = "arn:aws:sns:us-east-1:123456789012:alerts"


def publish(**params: Any) -> dict[str, Any]:
    return machine(
        {
            "N": {
                "Type": "Task",
                "Resource": SNS,
                "Parameters": {"TopicArn": TOPIC, **params},
                "End": True,
            }
        }
    )


@pytest.mark.parametrize(
    ("resource", "base", "pattern"),
    [
        (
            "arn:aws:states:::ecs:runTask.sync",
            "arn:aws:states:::ecs:runTask",
            IntegrationPattern.RUN_JOB,
        ),
        (
            "arn:aws:states:::glue:startJobRun.sync:2",
            "arn:aws:states:::glue:startJobRun",
            IntegrationPattern.RUN_JOB,
        ),
        (
            "arn:aws:states:::sns:publish.waitForTaskToken",
            SNS,
            IntegrationPattern.WAIT_FOR_TASK_TOKEN,
        ),
        (SNS, SNS, IntegrationPattern.REQUEST_RESPONSE),
        (
            "arn:aws:lambda:eu-west-1:1:function:f",
            "arn:aws:lambda:eu-west-1:1:function:f",
            IntegrationPattern.REQUEST_RESPONSE,
        ),
    ],
)
def test_split_resource(resource: str, base: str, pattern: IntegrationPattern) -> None:
    assert split_resource(resource) == (base, pattern)


def test_register_resource_is_a_one_liner_for_other_packages(run: Runner) -> None:
    calls: list[tuple[Any, IntegrationPattern]] = []

    def start_crawler(params: Any, ctx: TaskContext) -> Any:
        calls.append((params, ctx.pattern))
        return {"Name": params["Name"]}

    resource = f"arn:aws:states:::lakeboxtest{uuid.uuid4().hex[:8]}:startCrawler"
    assert find_problems(
        machine({"C": {"Type": "Task", "Resource": resource, "End": True}}), DEFAULT_REGISTRY
    )
    register_resource(resource, start_crawler, sync=True)
    definition = machine(
        {
            "C": {
                "Type": "Task",
                "Resource": resource + ".sync",
                "Parameters": {"Name": "raw"},
                "End": True,
            }
        }
    )
    assert run(definition).output == {"Name": "raw"}
    assert calls == [({"Name": "raw"}, IntegrationPattern.RUN_JOB)]


def test_aws_sdk_integrations_dispatch_to_registered_handlers(
    run: Runner, service: WorkflowService
) -> None:
    objects = {"k1": "hello"}

    def get_object(params: Any, ctx: TaskContext) -> Any:
        if params["Key"] not in objects:
            from lakebox.workflows.errors import StatesError

            raise StatesError("S3.NoSuchKeyException", f"no key {params['Key']}")
        return {"Body": objects[params["Key"]], "ContentLength": len(objects[params["Key"]])}

    service.register_resource("arn:aws:states:::aws-sdk:s3:getObject", get_object)
    state = {
        "Type": "Task",
        "Resource": "arn:aws:states:::aws-sdk:s3:getObject",
        "Parameters": {"Bucket": "b", "Key.$": "$.key"},
        "ResultSelector": {"b.$": "$.Body"},
        "Catch": [{"ErrorEquals": ["S3.NoSuchKeyException"], "Next": "Missing"}],
        "End": True,
    }
    definition = machine(
        {"G": state, "Missing": {"Type": "Pass", "Result": "missing", "End": True}}
    )
    assert run(definition, {"key": "k1"}).output == {"b": "hello"}
    assert run(definition, {"key": "nope"}).output == "missing"
    history = run.history(run(definition, {"key": "k1"}))
    scheduled = next(e for e in history if e["type"] == "TaskScheduled")
    assert scheduled["taskScheduledEventDetails"]["resourceType"] == "aws-sdk:s3"
    other = service.validate(
        machine(
            {
                "G": {
                    "Type": "Task",
                    "End": True,
                    "Resource": "arn:aws:states:::aws-sdk:s3:getBucketPolicy",
                }
            }
        )
    )
    assert "is not recognized" in str(other[0])


# ----------------------------------------------------------------------------- SNS


def test_sns_publish_to_log_file(run: Runner, service: WorkflowService, tmp_path: Path) -> None:
    log = tmp_path / "notifications.jsonl"
    service.register_topic("alerts", LogFileSink(log))
    out = run(publish(Subject="Done", **{"Message.$": "$"}), {"rows": 3})
    lines = [json.loads(line) for line in log.read_text().splitlines()]
    assert [(n["TopicArn"], n["Subject"], json.loads(n["Message"])) for n in lines] == [
        (TOPIC, "Done", {"rows": 3})
    ]
    assert out.output["MessageId"] == lines[0]["MessageId"]


def test_sns_unknown_topic(run: Runner) -> None:
    out = run(publish(Message="x"))
    assert (out.status, out.error) == ("FAILED", "SNS.NotFoundException")


class _Hook(BaseHTTPRequestHandler):
    received: list[tuple[str, dict[str, Any]]] = []
    status = 200

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).received.append((self.path, json.loads(body)))
        self.send_response(type(self).status)
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def webhook() -> Iterator[tuple[str, type[_Hook]]]:
    handler = type("Hook", (_Hook,), {"received": [], "status": 200})
    server = HTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hook", handler
    server.shutdown()
    server.server_close()


def test_sns_publish_to_webhook(
    run: Runner, service: WorkflowService, webhook: tuple[str, type[_Hook]]
) -> None:
    url, handler = webhook
    service.register_topic(TOPIC, WebhookSink(url))
    out = run(publish(Message="load finished"))
    assert out.status == "SUCCEEDED"
    assert [(p, b["Type"], b["Message"], b["TopicArn"]) for p, b in handler.received] == [
        ("/hook", "Notification", "load finished", TOPIC)
    ]


def test_webhook_error_fails_the_task(
    run: Runner, service: WorkflowService, webhook: tuple[str, type[_Hook]]
) -> None:
    url, handler = webhook
    handler.status = 500
    service.register_topic("alerts", WebhookSink(url))
    out = run(publish(Message="x"))
    assert (out.status, out.error) == ("FAILED", "SNS.DeliveryFailed")
    assert "500" in (out.cause or "")


class _SmtpHandler(socketserver.StreamRequestHandler):
    """Just enough SMTP (RFC 5321) to accept one message per session."""

    messages: list[tuple[str, list[str], bytes]] = []

    def reply(self, line: str) -> None:
        self.wfile.write((line + "\r\n").encode())

    def handle(self) -> None:
        self.reply("220 localhost test SMTP")
        sender, rcpts = "", []
        while True:
            line = self.rfile.readline().decode().strip()
            verb = line[:4].upper()
            if verb in ("HELO", "EHLO"):
                self.reply("250 localhost")
            elif verb == "MAIL":
                sender = line.split(":", 1)[1].strip(" <>")
                self.reply("250 OK")
            elif verb == "RCPT":
                rcpts.append(line.split(":", 1)[1].strip(" <>"))
                self.reply("250 OK")
            elif verb == "DATA":
                self.reply("354 end with .")
                data = b""
                while (chunk := self.rfile.readline()) not in (b".\r\n", b""):
                    data += chunk
                type(self).messages.append((sender, rcpts, data))
                self.reply("250 queued")
            elif verb == "QUIT" or not line:
                self.reply("221 bye")
                return
            else:
                self.reply("250 OK")


def test_sns_publish_by_email(run: Runner, service: WorkflowService) -> None:
    handler = type("Smtp", (_SmtpHandler,), {"messages": []})
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    try:
        port = server.server_address[1]
        service.register_topic(
            "alerts", SmtpSink("127.0.0.1", port, "lake@example.com", ["ops@example.com"])
        )
        out = run(publish(Subject="Nightly load", Message="42 rows"))
    finally:
        server.shutdown()
        server.server_close()
    assert out.status == "SUCCEEDED", out.cause
    [(sender, rcpts, data)] = handler.messages
    mail = message_from_bytes(data)
    assert (sender, rcpts, mail["Subject"]) == (
        "lake@example.com",
        ["ops@example.com"],
        "Nightly load",
    )
    assert mail.get_payload().strip() == "42 rows"


# ----------------------------------------------------------------------------- ECS

ECS = "arn:aws:states:::ecs:runTask.sync"


def ecs_task(**params: Any) -> dict[str, Any]:
    return machine(
        {
            "Run": {
                "Type": "Task",
                "Resource": ECS,
                "End": True,
                "Parameters": {
                    "Cluster": "lake",
                    "TaskDefinition": "arn:aws:ecs:us-east-1:1:task-definition/etl:7",
                    **params,
                },
                "Catch": [
                    {
                        "ErrorEquals": ["States.TaskFailed"],
                        "ResultPath": "$.error",
                        "Next": "Failed",
                    }
                ],
            },
            "Failed": {"Type": "Pass", "End": True},
        }
    )


def test_ecs_run_task_sync_runs_the_registered_command(
    run: Runner, service: WorkflowService, tmp_path: Path
) -> None:
    script = "import os, sys; print(os.environ['STAGE'], *sys.argv[1:])"
    service.register_command(
        "etl", [sys.executable, "-c", script, "base"], env={"STAGE": "dev"}, cwd=tmp_path
    )
    out = run(
        ecs_task(
            Overrides={
                "ContainerOverrides": [
                    {
                        "Name": "etl",
                        "Command": [sys.executable, "-c", script, "override"],
                        "Environment": [{"Name": "STAGE", "Value": "prod"}],
                    }
                ]
            }
        )
    )
    [container] = out.output["Containers"]
    assert (container["ExitCode"], container["Stdout"].strip()) == (0, "prod override")
    assert out.output["LastStatus"] == "STOPPED"
    assert "TaskSubmitted" in run.types(out)


def test_ecs_nonzero_exit_is_task_failed(run: Runner, service: WorkflowService) -> None:
    service.register_command("etl", [sys.executable, "-c", "import sys; sys.exit(3)"])
    out = run(ecs_task())
    cause = json.loads(out.output["error"]["Cause"])
    assert out.output["error"]["Error"] == "States.TaskFailed"
    assert cause["Containers"][0]["ExitCode"] == 3


def test_ecs_unknown_task_definition(run: Runner) -> None:
    out = run(ecs_task())  # caught: States.TaskFailed matches every error but States.Timeout
    assert out.output["error"]["Error"] == "ECS.ClientException"
    assert "register_command('etl'" in out.output["error"]["Cause"]


def test_lambda_arn_forms(run: Runner, service: WorkflowService) -> None:
    service.register_function(
        "arn:aws:lambda:us-east-1:123:function:greet", lambda e: f"hi {e['who']}"
    )
    for ref in (
        "greet",
        "greet:prod",
        "123:function:greet",
        "arn:aws:lambda:eu-west-1:999:function:greet:1",
    ):
        state = {
            "Type": "Task",
            "Resource": "arn:aws:states:::lambda:invoke",
            "Parameters": {"FunctionName": ref, "Payload": {"who": "ada"}},
            "OutputPath": "$.Payload",
            "End": True,
        }
        assert run(machine({"T": state})).output == "hi ada"


# ----------------------------------------------------------------------------- nested / reader


@pytest.mark.parametrize("suffix", [".sync", ".sync:2"])
def test_nested_state_machine(run: Runner, service: WorkflowService, suffix: str) -> None:
    service.create_state_machine(
        "child",
        machine(
            {
                "C": {
                    "Type": "Pass",
                    "Parameters": {
                        "doubled.$": "States.MathAdd($.n, $.n)",
                        "parent.$": "$.AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID",
                    },
                    "End": True,
                }
            }
        ),
    )
    parent = machine(
        {
            "Start": {
                "Type": "Task",
                "Resource": "arn:aws:states:::states:startExecution" + suffix,
                "Parameters": {
                    "StateMachineArn": "arn:aws:states:us-east-1:000000000000:stateMachine:child",
                    "Input": {
                        "n.$": "$.n",
                        "AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID.$": "$$.Execution.Id",
                    },
                },
                "End": True,
            }
        }
    )
    out = run(parent, {"n": 21})
    child_output = out.output["Output"]
    if suffix == ".sync":
        child_output = json.loads(child_output)
    assert child_output == {"doubled": 42, "parent": out.arn}
    assert out.output["Status"] == "SUCCEEDED"


def test_nested_failure_is_task_failed(run: Runner, service: WorkflowService) -> None:
    service.create_state_machine("child", machine({"F": {"Type": "Fail", "Error": "Inner"}}))
    parent = machine(
        {
            "Start": {
                "Type": "Task",
                "Resource": "arn:aws:states:::states:startExecution.sync:2",
                "Parameters": {
                    "StateMachineArn": "arn:aws:states:us-east-1:000000000000:stateMachine:child"
                },
                "End": True,
            }
        }
    )
    out = run(parent)
    assert out.error == "States.TaskFailed"
    assert json.loads(out.cause or "{}")["Error"] == "Inner"


@pytest.mark.parametrize(
    ("key", "body", "reader_config", "expected"),
    [
        (
            "in/rows.csv",
            "id,name\n1,a\n2,b\n",
            {"InputType": "CSV"},
            [{"id": "1", "name": "a"}, {"id": "2", "name": "b"}],
        ),
        (
            "in/rows.tsv",
            "1\ta\n",
            {
                "InputType": "CSV",
                "CSVDelimiter": "TAB",
                "CSVHeaderLocation": "GIVEN",
                "CSVHeaders": ["id", "name"],
            },
            [{"id": "1", "name": "a"}],
        ),
        (
            "in/rows.json",
            '[{"id": 1}, {"id": 2}, {"id": 3}]',
            {"InputType": "JSON", "MaxItems": 2},
            [{"id": 1}, {"id": 2}],
        ),
        (
            "in/rows.jsonl",
            '{"id": 1}\n\n{"id": 2}\n',
            {"InputType": "JSONL"},
            [{"id": 1}, {"id": 2}],
        ),
    ],
)
def test_map_item_reader_get_object(
    run: Runner,
    lake_home: Path,
    key: str,
    body: str,
    reader_config: dict[str, Any],
    expected: list[Any],
) -> None:
    path = lake_home / "bucket" / key
    path.parent.mkdir(parents=True)
    path.write_text(body)
    definition = machine(
        {
            "M": {
                "Type": "Map",
                "End": True,
                "ItemReader": {
                    "Resource": "arn:aws:states:::s3:getObject",
                    "ReaderConfig": reader_config,
                    "Parameters": {"Bucket": "bucket", "Key.$": "$.key"},
                },
                "ItemProcessor": {
                    "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
                    "StartAt": "P",
                    "States": {"P": {"Type": "Pass", "End": True}},
                },
            }
        }
    )
    out = run(definition, {"key": key})
    assert out.status == "SUCCEEDED", out.cause
    assert out.output == expected


def test_map_item_reader_list_objects(run: Runner, lake_home: Path) -> None:
    for name in ("logs/2024/a.txt", "logs/2024/b.txt", "logs/2025/c.txt", "other/d.txt"):
        (lake_home / "bucket" / name).parent.mkdir(parents=True, exist_ok=True)
        (lake_home / "bucket" / name).write_text("x" * len(name))
    definition = machine(
        {
            "M": {
                "Type": "Map",
                "End": True,
                "ItemReader": {
                    "Resource": "arn:aws:states:::s3:listObjectsV2",
                    "Parameters": {"Bucket": "bucket", "Prefix": "logs/202"},
                },
                "ItemSelector": {
                    "key.$": "$$.Map.Item.Value.Key",
                    "size.$": "$$.Map.Item.Value.Size",
                },
                "ItemProcessor": {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}},
            }
        }
    )
    out = run(definition)
    assert out.output == [
        {"key": "logs/2024/a.txt", "size": 15},
        {"key": "logs/2024/b.txt", "size": 15},
        {"key": "logs/2025/c.txt", "size": 15},
    ]


def test_map_item_reader_missing_object(run: Runner) -> None:
    definition = machine(
        {
            "M": {
                "Type": "Map",
                "End": True,
                "ItemReader": {
                    "Resource": "arn:aws:states:::s3:getObject",
                    "Parameters": {"Bucket": "bucket", "Key": "nope.json"},
                },
                "ItemProcessor": {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}},
            }
        }
    )
    assert run(definition).error == "States.ItemReaderFailed"


class _Api(BaseHTTPRequestHandler):
    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode() if length else ""
        status = 404 if self.path.startswith("/missing") else 200
        payload = json.dumps(
            {
                "method": self.command,
                "path": self.path,
                "body": body,
                "auth": self.headers.get("Authorization"),
            }
        ).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = _answer

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def api() -> Iterator[str]:
    server = HTTPServer(("127.0.0.1", 0), _Api)
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_http_invoke(run: Runner, api: str) -> None:
    definition = machine(
        {
            "Call": {
                "Type": "Task",
                "Resource": "arn:aws:states:::http:invoke",
                "Parameters": {
                    "ApiEndpoint": f"{api}/orders",
                    "Method": "POST",
                    "Headers": {"Authorization": "Bearer t"},
                    "QueryParameters": {"page": "2"},
                    "RequestBody": {"id.$": "$.id"},
                },
                "ResultSelector": {"status.$": "$.StatusCode", "echo.$": "$.ResponseBody"},
                "End": True,
            }
        }
    )
    out = run(definition, {"id": 7})
    assert out.output == {
        "status": 200,
        "echo": {
            "method": "POST",
            "path": "/orders?page=2",
            "body": '{"id": 7}',
            "auth": "Bearer t",
        },
    }


def test_http_error_status_is_catchable(run: Runner, api: str) -> None:
    definition = machine(
        {
            "Call": {
                "Type": "Task",
                "Resource": "arn:aws:states:::http:invoke",
                "Parameters": {"ApiEndpoint": f"{api}/missing", "Method": "GET"},
                "Catch": [{"ErrorEquals": ["States.Http.StatusCode.404"], "Next": "NotFound"}],
                "End": True,
            },
            "NotFound": {"Type": "Pass", "Result": "not found", "End": True},
        }
    )
    assert run(definition).output == "not found"


def test_map_result_writer(run: Runner, lake_home: Path) -> None:
    definition = machine(
        {
            "M": {
                "Type": "Map",
                "End": True,
                "ToleratedFailureCount": 1,
                "ItemProcessor": {
                    "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
                    "StartAt": "C",
                    "States": {
                        "C": {
                            "Type": "Choice",
                            "Default": "Ok",
                            "Choices": [{"Variable": "$", "NumericEquals": 2, "Next": "Bad"}],
                        },
                        "Bad": {"Type": "Fail", "Error": "Two"},
                        "Ok": {"Type": "Pass", "End": True},
                    },
                },
                "ResultWriter": {
                    "Resource": "arn:aws:states:::s3:putObject",
                    "Parameters": {"Bucket": "results", "Prefix": "runs/daily"},
                },
            }
        }
    )
    out = run(definition, [1, 2, 3])
    assert out.status == "SUCCEEDED", out.cause
    details = out.output["ResultWriterDetails"]
    assert out.output["MapRunArn"].startswith("arn:aws:states:us-east-1:000000000000:mapRun:")
    manifest = json.loads((lake_home / "results" / details["Key"]).read_text())
    assert details["Key"].startswith("runs/daily/") and details["Bucket"] == "results"
    [succeeded] = manifest["ResultFiles"]["SUCCEEDED"]
    [failed] = manifest["ResultFiles"]["FAILED"]
    rows = json.loads((lake_home / "results" / succeeded["Key"]).read_text())
    assert [json.loads(r["Output"]) for r in rows] == [1, 3]
    bad = json.loads((lake_home / "results" / failed["Key"]).read_text())
    assert [(b["Status"], b["Error"], b["Input"]) for b in bad] == [("FAILED", "Two", "2")]


def test_handlers_reach_shared_services(config: Any, clock: Any) -> None:
    class Engine:
        def run(self, sql: str) -> list[int]:
            return [len(sql)]

    svc = WorkflowService(config, clock=clock, services={"engine": Engine()})
    svc.register_resource(
        "arn:aws:states:::lakebox:query",
        lambda p, ctx: {
            "rows": ctx.services["engine"].run(p["sql"]),
            "same": ctx.services["workflows"] is svc,
        },
    )
    svc.create_state_machine(
        "q",
        machine({"Q": {"Type": "Task", "End": True, "Resource": "arn:aws:states:::lakebox:query"}}),
    )
    assert svc.start_execution("q", {"sql": "select 1"}).output == {"rows": [8], "same": True}
    svc.close()


def test_builtin_s3_sdk_actions_work_on_lake_storage(run: Runner, lake_home: Path) -> None:
    sdk = "arn:aws:states:::aws-sdk:s3:"
    definition = machine(
        {
            "Put": {
                "Type": "Task",
                "Resource": sdk + "putObject",
                "ResultPath": "$.put",
                "Parameters": {"Bucket": "raw", "Key": "in/a.json", "Body.$": "$.doc"},
                "Next": "Copy",
            },
            "Copy": {
                "Type": "Task",
                "Resource": sdk + "copyObject",
                "ResultPath": None,
                "Parameters": {
                    "Bucket": "curated",
                    "Key": "out/a.json",
                    "CopySource": "raw/in/a.json",
                },
                "Next": "Delete",
            },
            "Delete": {
                "Type": "Task",
                "Resource": sdk + "deleteObject",
                "ResultPath": None,
                "Parameters": {"Bucket": "raw", "Key": "in/a.json"},
                "Next": "List",
            },
            "List": {
                "Type": "Task",
                "Resource": sdk + "listObjectsV2",
                "Parameters": {"Bucket": "curated", "Prefix": "out/"},
                "ResultSelector": {"keys.$": "$.Contents[*].Key", "n.$": "$.KeyCount"},
                "ResultPath": "$.listed",
                "Next": "Get",
            },
            "Get": {
                "Type": "Task",
                "Resource": sdk + "getObject",
                "Parameters": {"Bucket": "curated", "Key": "out/a.json"},
                "ResultSelector": {"body.$": "States.StringToJson($.Body)"},
                "ResultPath": "$.got",
                "Next": "GetGone",
            },
            "GetGone": {
                "Type": "Task",
                "Resource": sdk + "getObject",
                "Parameters": {"Bucket": "raw", "Key": "in/a.json"},
                "Catch": [
                    {
                        "ErrorEquals": ["S3.NoSuchKeyException"],
                        "ResultPath": "$.gone",
                        "Next": "Done",
                    }
                ],
                "End": True,
            },
            "Done": {"Type": "Succeed"},
        }
    )
    out = run(definition, {"doc": {"id": 1}})
    assert out.status == "SUCCEEDED", out.cause
    assert out.output["listed"] == {"keys": ["out/a.json"], "n": 1}
    assert out.output["got"] == {"body": {"id": 1}}
    assert out.output["gone"]["Error"] == "S3.NoSuchKeyException"
    assert json.loads((lake_home / "curated" / "out" / "a.json").read_text()) == {"id": 1}
    assert not (lake_home / "raw" / "in" / "a.json").exists()
