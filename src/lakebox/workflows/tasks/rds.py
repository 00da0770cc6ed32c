"""``aws-sdk:rds:startExportTask`` / ``describeExportTasks``, dispatched through the RDS
operation table of the API layer (``lakebox.api.rds``) to lakebox's database snapshot
exports. Errors are ``Rds.<ErrorCode>`` with AWS's ``Exception`` suffix added
(``Rds.ExportTaskAlreadyExistsFaultException``, ``Rds.ExportTaskNotFoundFaultException``)."""

from __future__ import annotations

from lakebox.workflows.tasks.aws import register_sdk

register_sdk("rds", ("startExportTask", "describeExportTasks"), prefix="Rds")
