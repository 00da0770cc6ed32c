"""``arn:aws:states:::aws-sdk:s3:<action>``, dispatched through the S3 operation table of the
API layer (``lakebox.api.s3``) to the lake's storage, so definitions that move objects around
run unchanged against local buckets (or the configured S3 endpoint).

Failures use the SDK integration's error names: S3's code with ``Exception`` added
(``S3.NoSuchKeyException``, ``S3.InvalidBucketNameException``), and the SDK's base
``S3.S3Exception`` for a malformed request or an internal error.
"""

from __future__ import annotations

from lakebox.errors import LakeboxError
from lakebox.workflows.errors import StatesError
from lakebox.workflows.tasks.aws import register_sdk
from lakebox.workflows.tasks.registry import TaskContext

#: S3 codes the SDK integration reports under its base exception.
_BASE = frozenset({"InvalidRequest", "InternalError"})


def _needs_config(ctx: TaskContext, prefix: str) -> None:
    if ctx.config is None:
        raise StatesError("S3.S3Exception", "S3 tasks need a lake: run through WorkflowService")


def s3_error(prefix: str, exc: LakeboxError) -> StatesError:
    code = "S3" if exc.code in _BASE else exc.code
    return StatesError(f"{prefix}.{code}Exception", str(exc))


register_sdk(
    "s3",
    ("getObject", "headObject", "putObject", "copyObject", "deleteObject", "listObjectsV2"),
    prefix="S3",
    namer=s3_error,
    requires=_needs_config,
    wait_for_task_token=False,
)
