"""``aws-sdk:firehose:putRecord`` / ``putRecordBatch``, dispatched through the Firehose
operation table of the API layer (``lakebox.api.firehose``) to lakebox's delivery streams.
Errors are ``Firehose.<ErrorCode>`` (``Firehose.ResourceNotFoundException``,
``Firehose.InvalidArgumentException``)."""

from __future__ import annotations

from lakebox.workflows.tasks.aws import register_sdk

register_sdk("firehose", ("putRecord", "putRecordBatch"), prefix="Firehose")
