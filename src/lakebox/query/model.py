"""Query executions and workgroups, shaped after Athena's API objects."""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from lakebox.principal import LOCAL_ADMIN

QUEUED, RUNNING, SUCCEEDED, FAILED, CANCELLED = (
    "QUEUED",
    "RUNNING",
    "SUCCEEDED",
    "FAILED",
    "CANCELLED",
)
FINAL_STATES = frozenset({SUCCEEDED, FAILED, CANCELLED})

MB = 1024 * 1024
TB = 1024 * 1024 * MB
PRICE_PER_TB_USD = 5.0
MIN_BILLED_MB = 10
MIN_CUTOFF_BYTES = 10 * MB

#: a workgroup's ``SelectedEngineVersion`` by default: the lake's own engine
#: (``LAKEBOX_ENGINE``) runs its queries
AUTO = "AUTO"
#: Athena's SQL engine version: lakebox's DuckDB engine runs the workgroup's queries
ATHENA_SQL = "Athena engine version 3"
#: the engine version of Athena's Spark-enabled workgroups: lakebox's Spark engine runs the
#: workgroup's SQL (docs/scale-out.md, "Choosing the engine")
PYSPARK = "PySpark engine version 3"
#: the engine versions a workgroup may select, and the lakebox engine each runs on
ENGINE_VERSIONS: dict[str, str] = {
    ATHENA_SQL: "duckdb",
    PYSPARK: "spark",
    "Apache Spark version 3.5": "spark",
}
#: what ``EffectiveEngineVersion`` says of each lakebox engine when AUTO chose it
_VERSION_OF_ENGINE = {"duckdb": ATHENA_SQL, "spark": PYSPARK}


def engine_of(selected: str, default: str) -> str:
    """The lakebox engine (``duckdb`` or ``spark``) a workgroup's selected engine version
    runs on; AUTO runs on the lake's ``default`` engine."""
    return ENGINE_VERSIONS.get(selected, default)


def effective_version(selected: str, engine: str) -> str:
    """Athena's ``EffectiveEngineVersion``: the selected version, or for AUTO the version
    of the engine the lake chose."""
    if selected in ENGINE_VERSIONS:
        return selected
    return _VERSION_OF_ENGINE.get(engine, ATHENA_SQL)


def query_cost_usd(bytes_scanned: int, statement_type: str, state: str) -> float:
    """Athena's price: $5 per TB scanned, rounded up to the MB, 10 MB minimum per query;
    DDL and failed queries are free, cancelled queries pay for what they scanned."""
    if statement_type != "DML" or state not in (SUCCEEDED, CANCELLED):
        return 0.0
    billed_mb = max(math.ceil(bytes_scanned / MB), MIN_BILLED_MB)
    return billed_mb * PRICE_PER_TB_USD / (TB / MB)


@dataclass
class QueryExecution:
    query_execution_id: str
    query: str
    workgroup: str
    database: str
    output_location: str
    statement_type: str = "DML"
    state: str = QUEUED
    state_change_reason: str | None = None
    error_type: str | None = None
    submission_time: float = field(default_factory=time.time)
    start_time: float | None = None
    completion_time: float | None = None
    data_scanned_bytes: int = 0
    engine_execution_ms: int = 0
    queue_ms: int = 0
    total_ms: int = 0
    rows: int | None = None
    client_request_token: str | None = None
    reused_previous_result: bool = False
    result_fingerprint: str | None = None
    pid: int = 0
    #: who started it (records made before principals existed: the local administrator)
    principal_arn: str = LOCAL_ADMIN.arn
    #: the visibility policy version it ran under: its results serve only that version
    policy_version: int = 0
    #: a write's data manifest, the files it added (Athena's DataManifestLocation)
    manifest_location: str | None = None
    #: it read a table Lake Formation restricts (not every principal may read it whole):
    #: its results were not filtered for anyone else, so only its principal and the
    #: data lake administrators get them (``QueryService.get_query_results``)
    restricted_read: bool = False
    #: the workgroup's SelectedEngineVersion when the query was started, and the lakebox
    #: engine it ran on ("" in records made before workgroups chose engines)
    selected_engine_version: str = AUTO
    engine: str = ""

    @property
    def done(self) -> bool:
        return self.state in FINAL_STATES

    @property
    def cost_usd(self) -> float:
        return query_cost_usd(self.data_scanned_bytes, self.statement_type, self.state)

    def to_dict(self) -> dict[str, Any]:
        """Its fields, which are all plain values: a copy of them, not ``asdict``'s deep
        copy (three per query, 0.1-0.2 ms each)."""
        return {name: getattr(self, name) for name in _EXECUTION_FIELDS}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> QueryExecution:
        return cls(**data)

    def to_api(self) -> dict[str, Any]:
        """The GetQueryExecution shape (times as epoch seconds)."""
        status: dict[str, Any] = {"State": self.state, "SubmissionDateTime": self.submission_time}
        if self.completion_time is not None:
            status["CompletionDateTime"] = self.completion_time
        if self.state_change_reason:
            status["StateChangeReason"] = self.state_change_reason
        if self.error_type:
            status["AthenaError"] = {
                "ErrorType": self.error_type,
                "ErrorMessage": self.state_change_reason or "",
            }
        return {
            "QueryExecutionId": self.query_execution_id,
            "Query": self.query,
            "StatementType": self.statement_type,
            "ResultConfiguration": {"OutputLocation": self.output_location},
            "ResultReuseConfiguration": {},
            "QueryExecutionContext": {"Database": self.database, "Catalog": "awsdatacatalog"},
            "Status": status,
            "Statistics": {
                "EngineExecutionTimeInMillis": self.engine_execution_ms,
                "DataScannedInBytes": self.data_scanned_bytes,
                "TotalExecutionTimeInMillis": self.total_ms,
                "QueryQueueTimeInMillis": self.queue_ms,
                "ResultReuseInformation": {"ReusedPreviousResult": self.reused_previous_result},
                **(
                    {"DataManifestLocation": self.manifest_location}
                    if self.manifest_location
                    else {}
                ),
            },
            "WorkGroup": self.workgroup,
            **(
                {
                    "EngineVersion": {
                        "SelectedEngineVersion": self.selected_engine_version,
                        "EffectiveEngineVersion": effective_version(
                            self.selected_engine_version, self.engine
                        ),
                    }
                }
                if self.engine
                else {}
            ),
        }


_EXECUTION_FIELDS = tuple(f.name for f in fields(QueryExecution))


@dataclass
class WorkGroup:
    name: str
    description: str = ""
    state: str = "ENABLED"
    output_location: str | None = None
    enforce_configuration: bool = False
    bytes_scanned_cutoff_per_query: int | None = None
    creation_time: float = field(default_factory=time.time)
    #: Athena's ``Configuration.EngineVersion.SelectedEngineVersion``: AUTO or one of
    #: ``ENGINE_VERSIONS`` (which lakebox engine runs the workgroup's queries)
    engine_version: str = AUTO

    def engine(self, default: str) -> str:
        """The lakebox engine this workgroup's queries run on; ``default`` is the lake's."""
        return engine_of(self.engine_version, default)

    def engine_version_api(self, default: str) -> dict[str, str]:
        """Athena's ``EngineVersion``: selected and effective (``default``: the lake's engine)."""
        return {
            "SelectedEngineVersion": self.engine_version,
            "EffectiveEngineVersion": effective_version(self.engine_version, default),
        }

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> WorkGroup:
        return cls(**data)

    def to_api(self, default_engine: str = "duckdb") -> dict[str, Any]:
        """The GetWorkGroup shape; ``default_engine`` is the lake's (what AUTO runs on)."""
        config: dict[str, Any] = {
            "EnforceWorkGroupConfiguration": self.enforce_configuration,
            "ResultConfiguration": (
                {"OutputLocation": self.output_location} if self.output_location else {}
            ),
            "EngineVersion": self.engine_version_api(default_engine),
        }
        if self.bytes_scanned_cutoff_per_query is not None:
            config["BytesScannedCutoffPerQuery"] = self.bytes_scanned_cutoff_per_query
        return {
            "Name": self.name,
            "State": self.state,
            "Description": self.description,
            "Configuration": config,
            "CreationTime": self.creation_time,
        }


@dataclass
class Usage:
    workgroup: str
    queries: int = 0
    bytes_scanned: int = 0
    cost_usd: float = 0.0
