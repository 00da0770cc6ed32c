"""Task resources: a registry keyed by resource ARN pattern and the built-in integrations."""

from lakebox.workflows.tasks.registry import (
    DEFAULT_REGISTRY,
    IntegrationPattern,
    ResourceRegistry,
    TaskContext,
    TaskHandler,
    register_resource,
)

__all__ = [
    "DEFAULT_REGISTRY",
    "IntegrationPattern",
    "ResourceRegistry",
    "TaskContext",
    "TaskHandler",
    "register_resource",
]

# The built-in resources (Lambda, SNS, ECS, HTTP, S3 SDK) register themselves on import.
# Lake-backed integrations (Athena, Glue crawlers and jobs, DynamoDB / RDS exports, Firehose).
from lakebox.workflows.tasks import athena as _athena
from lakebox.workflows.tasks import builtin as _builtin
from lakebox.workflows.tasks import dynamodb as _dynamodb
from lakebox.workflows.tasks import firehose as _firehose
from lakebox.workflows.tasks import glue as _glue
from lakebox.workflows.tasks import lakeformation as _lakeformation
from lakebox.workflows.tasks import rds as _rds
from lakebox.workflows.tasks import s3 as _s3
from lakebox.workflows.tasks import secretsmanager as _secretsmanager

del _builtin, _s3, _athena, _dynamodb, _firehose, _glue, _lakeformation, _rds, _secretsmanager
