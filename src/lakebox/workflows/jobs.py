"""Glue-style jobs for workflows: a registry of scripts and their runs, kept in
``<metadata_dir>/glue-jobs.sqlite`` so runs can be looked up from any process.

A job is either

* a **Python** script, run with the lake's Python in a subprocess. Its arguments arrive in
  ``sys.argv`` as Glue passes them: ``--JOB_NAME <name> --JOB_RUN_ID <id>`` followed by the
  job's default arguments merged with the run's (``--key value`` pairs). ``LAKEBOX_HOME`` and
  ``LAKEBOX_STORAGE`` point at the lake, so ``lakebox.connect()`` in the script opens it.
  Exit status 0 is SUCCEEDED; otherwise FAILED with the last line of stderr (a traceback's
  exception line) as ErrorMessage: for a PySpark failure in the JVM, the Java exception it
  carries, never a line of the JVM's stack trace (``failure_line``).
* a **Glue ETL** (``glueetl``) PySpark script, run as a Python script is, with Spark: the
  ``awsglue`` package the script imports is lakebox's (``lakebox/engine/spark/glue_shim``,
  on the process's PYTHONPATH only), its SparkContext starts with the lake's master
  (``LAKEBOX_SPARK_MASTER``) and lakebox's Spark settings (a ``spark-defaults.conf`` of the
  run), and it opens the lake on the Spark engine acting as the job's role session (see
  docs/scale-out.md, "Glue ETL jobs"). GlueVersion, WorkerType and NumberOfWorkers are
  recorded and shown, not used: the run gets the master's cores.
* a **SQL** script, run statement by statement through the QueryService (each statement is
  an Athena query execution with its own history and result files). ``${name}`` in the text
  is replaced by the value of the argument ``--name`` (verbatim: write ``'${day}'`` for a
  string literal); ``$${`` stays a literal ``${``; a reference to an argument that was not
  given fails the run. The lakebox arguments ``--database``, ``--workgroup`` and
  ``--output_location`` set the query context. The first failing statement fails the run.

Scripts are read when a run starts (a local path or an ``s3://`` URI in the lake), as Glue
reads ScriptLocation. Runs execute on background threads of this process; a run left
STARTING / RUNNING by a process that exited is marked FAILED when a registry opens.
"""

from __future__ import annotations

import json
import logging
import os
import re
import secrets
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from contextlib import AbstractContextManager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lakebox.errors import EntityNotFoundError, InvalidRequestError, LakeboxError
from lakebox.metadata import sqlite as metadb
from lakebox.names import glue_name
from lakebox.principal import LOCAL_ADMIN, Principal
from lakebox.util import pid_alive

_log = logging.getLogger(__name__)

if TYPE_CHECKING:
    from lakebox.query.lake import LakeParts as Lake
    from lakebox.query.service import QueryService

KINDS = ("python", "sql", "glueetl")
#: Command.Name of each kind
COMMAND_NAMES = {"python": "pythonshell", "sql": "lakebox-sql", "glueetl": "glueetl"}
#: the folder put on a glueetl process's PYTHONPATH: its ``awsglue`` package
GLUE_SHIM = Path(__file__).resolve().parent.parent / "engine" / "spark" / "glue_shim"
STARTING, RUNNING, STOPPING, STOPPED = "STARTING", "RUNNING", "STOPPING", "STOPPED"
SUCCEEDED, FAILED, TIMEOUT, ERROR = "SUCCEEDED", "FAILED", "TIMEOUT", "ERROR"
ACTIVE_STATES = frozenset({STARTING, RUNNING, STOPPING})
FINAL_STATES = frozenset({STOPPED, SUCCEEDED, FAILED, TIMEOUT, ERROR})
#: Glue's default job timeout (minutes).
DEFAULT_TIMEOUT_MINUTES = 2880
POLL_SECONDS = 0.05
_REFERENCE = re.compile(r"\$\$\{|\$\{([A-Za-z_][A-Za-z0-9_.\-]*)\}")


class ConcurrentRunsExceededError(LakeboxError):
    """A job already has MaxConcurrentRuns runs going (Glue's error of the same name)."""

    code = "ConcurrentRunsExceededException"
    transient = True


@dataclass
class Job:
    name: str
    script_location: str
    kind: str = "python"
    default_arguments: dict[str, str] = field(default_factory=dict)
    description: str = ""
    max_concurrent_runs: int = 1
    timeout_minutes: int = DEFAULT_TIMEOUT_MINUTES
    created_on: float = field(default_factory=time.time)
    last_modified_on: float = field(default_factory=time.time)
    #: the IAM role Glue's CreateJob names: runs act as a session of it when it trusts
    #: ``glue.amazonaws.com`` (else as who starts them)
    role: str = ""
    #: glueetl sizing, recorded and shown (a local run uses the lake's Spark master)
    glue_version: str = ""
    worker_type: str = ""
    number_of_workers: int = 0

    def to_api(self) -> dict[str, Any]:
        """Glue's GetJob ``Job`` shape (times in epoch milliseconds, as Step Functions
        serialises them)."""
        sizing: dict[str, Any] = {}
        if self.glue_version:
            sizing["GlueVersion"] = self.glue_version
        if self.worker_type:
            sizing["WorkerType"] = self.worker_type
        if self.number_of_workers:
            sizing["NumberOfWorkers"] = self.number_of_workers
        return {
            **sizing,
            "Name": self.name,
            "Description": self.description,
            "Command": {
                "Name": COMMAND_NAMES.get(self.kind, self.kind),
                "ScriptLocation": self.script_location,
                "PythonVersion": "3",
            },
            "DefaultArguments": dict(self.default_arguments),
            "ExecutionProperty": {"MaxConcurrentRuns": self.max_concurrent_runs},
            "Timeout": self.timeout_minutes,
            "CreatedOn": _ms(self.created_on),
            "LastModifiedOn": _ms(self.last_modified_on),
        }


@dataclass
class JobRun:
    id: str
    job_name: str
    state: str = STARTING
    arguments: dict[str, str] = field(default_factory=dict)
    started_on: float = field(default_factory=time.time)
    last_modified_on: float = field(default_factory=time.time)
    completed_on: float | None = None
    error_message: str | None = None
    timeout_minutes: int = DEFAULT_TIMEOUT_MINUTES
    log_path: str | None = None
    query_execution_ids: list[str] = field(default_factory=list)
    pid: int = field(default_factory=os.getpid)
    #: who started it (runs recorded before principals existed: the local administrator);
    #: Glue's JobRun shows no caller, so ``to_api`` leaves it out
    principal_arn: str = LOCAL_ADMIN.arn

    @property
    def done(self) -> bool:
        return self.state in FINAL_STATES

    def to_api(self) -> dict[str, Any]:
        """Glue's GetJobRun ``JobRun`` shape."""
        end = self.completed_on if self.completed_on is not None else time.time()
        out: dict[str, Any] = {
            "Id": self.id,
            "Attempt": 0,
            "JobName": self.job_name,
            "StartedOn": _ms(self.started_on),
            "LastModifiedOn": _ms(self.last_modified_on),
            "JobRunState": self.state,
            "Arguments": dict(self.arguments),
            "PredecessorRuns": [],
            "ExecutionTime": int(end - self.started_on),
            "Timeout": self.timeout_minutes,
            "GlueVersion": "lakebox",
        }
        if self.completed_on is not None:
            out["CompletedOn"] = _ms(self.completed_on)
        if self.error_message:
            out["ErrorMessage"] = self.error_message
        if self.log_path:
            out["LogGroupName"] = self.log_path
        return out


def _ms(ts: float) -> int:
    return int(ts * 1000)


def _alive(pid: int) -> bool:
    return pid_alive(pid)


def stop_query(
    qs: QueryService,
    qid: str,
    patience: float = 10.0,
    *,
    principal: Principal = LOCAL_ADMIN,
) -> None:
    """Stop a query (as ``principal``) and wait until it has ended. The stop is repeated
    because an interrupt that reaches the engine before the statement starts executing is
    lost."""
    deadline = time.monotonic() + patience
    while True:
        qs.stop_query_execution(qid, principal=principal)
        if (
            qs.wait(qid, timeout=POLL_SECONDS * 2, principal=principal).done
            or time.monotonic() > deadline
        ):
            return


def substitute(text: str, arguments: dict[str, str]) -> str:
    """Replace ``${name}`` by the value of argument ``--name`` (or ``name``); ``$${`` is a
    literal ``${``. A reference to a missing argument is an error naming it."""

    def repl(m: re.Match[str]) -> str:
        name = m.group(1)
        if name is None:
            return "${"
        for key in (f"--{name}", name):
            if key in arguments:
                return str(arguments[key])
        raise InvalidRequestError(
            f"the SQL script uses ${{{name}}} but the run has no argument --{name}: pass it in "
            "Arguments or the job's default arguments"
        )

    return _REFERENCE.sub(repl, text)


class _Active:
    def __init__(self) -> None:
        self.stop = threading.Event()
        self.done = threading.Event()


_SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (name TEXT PRIMARY KEY, doc TEXT);
CREATE TABLE IF NOT EXISTS runs (id TEXT PRIMARY KEY, job TEXT, started REAL, state TEXT, doc TEXT);
"""

#: The schema steps of glue-jobs.sqlite, by version (see ``lakebox.metadata.sqlite.migrate``).
MIGRATIONS: tuple[metadb.Migration, ...] = (_SCHEMA,)


class JobRegistry:
    """Jobs and job runs of one lake. ``queries`` is the QueryService SQL jobs run through
    (one is made from ``lake`` when not given)."""

    def __init__(self, lake: Lake, queries: QueryService | None = None) -> None:
        self.lake = lake
        self._queries = queries
        self.root = lake.config.metadata_dir / "glue-jobs"
        self.root.mkdir(parents=True, exist_ok=True)
        self.path = lake.config.metadata_dir / "glue-jobs.sqlite"
        self._lock = threading.Lock()
        self._active: dict[str, _Active] = {}
        self._store = metadb.SQLiteStore(self.path, MIGRATIONS, timeout=30)
        self.recover()

    @property
    def queries(self) -> QueryService:
        if self._queries is None:
            from lakebox.query.service import QueryService

            self._queries = QueryService(self.lake)
        return self._queries

    def _db(self) -> AbstractContextManager[sqlite3.Connection]:
        return self._store.transaction()

    # -- jobs -----------------------------------------------------------------------------
    def register_job(
        self,
        name: str,
        script_path: str | os.PathLike[str],
        kind: str = "python",
        default_arguments: dict[str, str] | None = None,
        *,
        description: str = "",
        max_concurrent_runs: int = 1,
        timeout_minutes: int = DEFAULT_TIMEOUT_MINUTES,
        role: str = "",
        glue_version: str = "",
        worker_type: str = "",
        number_of_workers: int = 0,
        principal: Principal = LOCAL_ADMIN,
    ) -> Job:
        """Create or replace a job (Glue's CreateJob / UpdateJob)."""
        glue_name(name, "job")
        if kind not in KINDS:
            raise InvalidRequestError(f"job kind {kind!r} must be 'python', 'sql' or 'glueetl'")
        if number_of_workers < 0:
            raise InvalidRequestError("number_of_workers must be >= 0")
        if max_concurrent_runs < 1 or timeout_minutes < 1:
            raise InvalidRequestError("max_concurrent_runs and timeout_minutes must be >= 1")
        location = str(script_path)
        if "://" not in location:
            location = str(Path(location).expanduser().resolve())
        args = {_key(k): str(v) for k, v in (default_arguments or {}).items()}
        job = Job(name, location, kind, args, description, max_concurrent_runs, timeout_minutes)
        job.role = role
        job.glue_version, job.worker_type = glue_version, worker_type
        job.number_of_workers = number_of_workers
        with self._db() as db:
            row = db.execute("SELECT doc FROM jobs WHERE name = ?", (name,)).fetchone()
            if row is not None:
                job.created_on = json.loads(row[0])["created_on"]
            db.execute("INSERT OR REPLACE INTO jobs VALUES (?, ?)", (name, json.dumps(asdict(job))))
        return job

    def get_job(self, name: str, *, principal: Principal = LOCAL_ADMIN) -> Job:
        with self._db() as db:
            row = db.execute("SELECT doc FROM jobs WHERE name = ?", (name,)).fetchone()
        if row is None:
            raise EntityNotFoundError(f"Job {name} not found: register it with register_job")
        return Job(**json.loads(row[0]))

    def list_jobs(self, *, principal: Principal = LOCAL_ADMIN) -> list[Job]:
        with self._db() as db:
            rows = db.execute("SELECT doc FROM jobs ORDER BY name").fetchall()
        return [Job(**json.loads(r[0])) for r in rows]

    def delete_job(self, name: str, *, principal: Principal = LOCAL_ADMIN) -> None:
        with self._db() as db:
            db.execute("DELETE FROM jobs WHERE name = ?", (name,))

    # -- runs -----------------------------------------------------------------------------
    def _save(self, run: JobRun) -> None:
        run.last_modified_on = time.time()
        with self._db() as db:
            db.execute(
                "INSERT OR REPLACE INTO runs VALUES (?, ?, ?, ?, ?)",
                (run.id, run.job_name, run.started_on, run.state, json.dumps(asdict(run))),
            )

    def _load(self, run_id: str) -> JobRun | None:
        with self._db() as db:
            row = db.execute("SELECT doc FROM runs WHERE id = ?", (run_id,)).fetchone()
        return None if row is None else JobRun(**json.loads(row[0]))

    def recover(self) -> int:
        """Mark runs whose process exited as FAILED, never leaving them RUNNING for ever."""
        with self._db() as db:
            rows = db.execute(
                "SELECT doc FROM runs WHERE state IN (?, ?, ?)", tuple(ACTIVE_STATES)
            ).fetchall()
        count = 0
        for (doc,) in rows:
            run = JobRun(**json.loads(doc))
            if run.pid == os.getpid() or _alive(run.pid):
                continue
            run.state, run.completed_on = FAILED, time.time()
            run.error_message = f"the lakebox process (pid {run.pid}) running this job exited"
            self._save(run)
            count += 1
        return count

    def start_job_run(
        self,
        name: str,
        arguments: dict[str, str] | None = None,
        timeout_minutes: int | None = None,
        *,
        principal: Principal = LOCAL_ADMIN,
    ) -> str:
        """Start a run on a background thread and return its JobRunId at once."""
        job = self.get_job(name)
        with self._lock:
            with self._db() as db:
                active = db.execute(
                    "SELECT COUNT(*) FROM runs WHERE job = ? AND state IN (?, ?, ?)",
                    (name, *ACTIVE_STATES),
                ).fetchone()[0]
            if active >= job.max_concurrent_runs:
                raise ConcurrentRunsExceededError(
                    f"Concurrent runs exceeded for {name}: {active} running, "
                    f"MaxConcurrentRuns is {job.max_concurrent_runs}"
                )
            run = JobRun(
                id="jr_" + secrets.token_hex(32),
                job_name=name,
                arguments={_key(k): str(v) for k, v in (arguments or {}).items()},
                timeout_minutes=timeout_minutes or job.timeout_minutes,
                principal_arn=principal.arn,
            )
            run.log_path = str(self.root / "logs" / f"{run.id}.log")
            self._save(run)
            active_run = _Active()
            self._active[run.id] = active_run
        thread = threading.Thread(
            target=self._run,
            args=(job, run, active_run, principal),
            name=f"lakebox-job-{name}",
            daemon=True,
        )
        thread.start()
        return run.id

    def get_job_run(self, name: str, run_id: str, *, principal: Principal = LOCAL_ADMIN) -> JobRun:
        run = self._load(run_id)
        if run is None or run.job_name != name:
            raise EntityNotFoundError(f"Job run {run_id} of job {name} not found")
        return run

    def get_job_runs(
        self, name: str, max_results: int = 100, *, principal: Principal = LOCAL_ADMIN
    ) -> list[JobRun]:
        """Runs of a job, newest first."""
        self.get_job(name)
        with self._db() as db:
            rows = db.execute(
                "SELECT doc FROM runs WHERE job = ? ORDER BY started DESC LIMIT ?",
                (name, max_results),
            ).fetchall()
        return [JobRun(**json.loads(r[0])) for r in rows]

    def stop_job_run(self, name: str, run_id: str, *, principal: Principal = LOCAL_ADMIN) -> None:
        """Glue's BatchStopJobRun for one run: the run ends STOPPED."""
        run = self.get_job_run(name, run_id)
        if run.done:
            return
        active = self._active.get(run_id)
        if active is None:
            raise InvalidRequestError(
                f"Job run {run_id} runs in another process (pid {run.pid}); stop it there"
            )
        active.stop.set()

    def close(self, timeout: float = 10.0) -> None:
        """Stop the runs started here and wait (up to ``timeout`` s) for them to record their
        end: a run left going would use the query service and lake its owner closes next."""
        with self._lock:
            active = list(self._active.values())
        for each in active:
            each.stop.set()
        deadline = time.monotonic() + timeout
        for each in active:
            each.done.wait(max(0.0, deadline - time.monotonic()))

    def wait(
        self, run_id: str, timeout: float | None = None, *, principal: Principal = LOCAL_ADMIN
    ) -> JobRun:
        """Block until the run ends (or ``timeout`` seconds pass) and return it."""
        active = self._active.get(run_id)
        if active is not None:
            active.done.wait(timeout)
        run = self._load(run_id)
        if run is None:
            raise EntityNotFoundError(f"Job run {run_id} not found")
        return run

    # -- running --------------------------------------------------------------------------
    def _run(self, job: Job, run: JobRun, active: _Active, principal: Principal) -> None:
        """Run the job as Glue does, with its role: a Python shell script gets the role's
        temporary credentials (``_aws_env``), and SQL statements run as a session of the
        role (``_role_session``); when the role cannot be assumed, they run as
        ``principal``, who started the run."""
        deadline = time.monotonic() + run.timeout_minutes * 60
        try:
            run.state = RUNNING
            self._save(run)
            arguments = {**job.default_arguments, **run.arguments}
            script = self._script(job)
            if job.kind in ("python", "glueetl"):
                outcome = self._run_python(job, run, script, arguments, active, deadline, principal)
            else:
                acting = self._role_session(job, run) or principal
                outcome = self._run_sql(run, script.decode(), arguments, active, deadline, acting)
            run.state, run.error_message = outcome
        except LakeboxError as err:
            run.state, run.error_message = FAILED, str(err)
        except Exception as err:  # a bug must still end the run
            run.state, run.error_message = FAILED, f"internal error: {err!r}"
        finally:
            run.completed_on = time.time()
            self._save(run)
            with self._lock:
                self._active.pop(run.id, None)
            active.done.set()

    def _script(self, job: Job) -> bytes:
        try:
            if "://" in job.script_location:
                data: bytes = self.lake.storage.read_bytes(job.script_location)
                return data
            return Path(job.script_location).read_bytes()
        except (OSError, LakeboxError) as err:
            raise InvalidRequestError(
                f"cannot read the script of job {job.name} at {job.script_location}: {err}"
            ) from err

    def _assume(self, job: Job, run: JobRun) -> Any | None:
        """The job's role assumed by Glue for this run (``SessionCredentials``), or None
        when the job names no role ARN, the lake has no identity service, or the role does
        not trust ``glue.amazonaws.com`` (the run's log says why)."""
        role = job.role or ""
        if not re.fullmatch(r"arn:aws:iam::\d{12}:role/[\w+=,.@/-]+", role):
            return None
        iam = getattr(self.lake, "iam", None)  # a lake with an identity service
        if iam is None:
            return None
        glue = Principal(role.split(":")[4], "glue.amazonaws.com", "service")
        try:
            return iam.assume_role(glue, role, f"glue-{run.id}"[:64], duration_seconds=3600)
        except LakeboxError as err:
            _log.warning("job %s run %s: role %s not assumed: %s", job.name, run.id, role, err)
            return None

    def _role_session(self, job: Job, run: JobRun) -> Principal | None:
        """The principal of the job's role session for this run (its SQL statements act
        as it, so the role's IAM policies and Lake Formation grants apply)."""
        creds = self._assume(job, run)
        if creds is None:
            return None
        return Principal(creds.account_id, creds.assumed_role_arn, "assumed-role")

    def _aws_env(self, job: Job, run: JobRun, creds: Any | None) -> dict[str, str]:
        """What a script written for Glue needs for its boto3 calls to reach this lake, as
        Glue gives a job its role: the lake's region, the server's URL when the lake is
        being served (``AWS_ENDPOINT_URL``, which boto3 honours), and temporary credentials
        of the job's role when the role trusts ``glue.amazonaws.com``. With such a role,
        the machine user's AWS profiles are hidden from the script, as on Glue; a role that
        cannot be assumed gives no keys (the run's log says why)."""
        region = self.lake.config.region
        env = {"AWS_REGION": region, "AWS_DEFAULT_REGION": region}
        endpoint = getattr(self.lake, "endpoint_url", None)
        if isinstance(endpoint, str) and endpoint:
            env["AWS_ENDPOINT_URL"] = endpoint
        if creds is None:
            return env
        env.update(
            {
                "AWS_ACCESS_KEY_ID": creds.access_key_id,
                "AWS_SECRET_ACCESS_KEY": creds.secret_access_key,
                "AWS_SESSION_TOKEN": creds.session_token,
                "AWS_CONFIG_FILE": os.devnull,
                "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
            }
        )
        return env

    def _run_python(
        self,
        job: Job,
        run: JobRun,
        script: bytes,
        arguments: dict[str, str],
        active: _Active,
        deadline: float,
        principal: Principal = LOCAL_ADMIN,
    ) -> tuple[str, str | None]:
        path = Path(job.script_location)
        if "://" in job.script_location:
            path = self.root / "scripts" / f"{run.id}.py"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(script)
        argv = [sys.executable, str(path), "--JOB_NAME", job.name, "--JOB_RUN_ID", run.id]
        for key, value in arguments.items():
            argv += [key, value]
        creds = self._assume(job, run)
        env = {
            **os.environ,
            "LAKEBOX_HOME": str(self.lake.config.home),
            "LAKEBOX_STORAGE": self.lake.config.storage,
            **self._aws_env(job, run, creds),
        }
        if self.lake.config.storage == "s3":
            # the lake's own S3 (endpoint and keys), apart from the AWS_* keys of the job's
            # role, which are for the lakebox server
            env.update(self.lake.config.s3.env())
        scratch: Path | None = None
        if job.kind == "glueetl":
            acting = creds.assumed_role_arn if creds is not None else principal.arn
            scratch = self.root / "spark" / run.id
            env.update(self._spark_env(scratch, None if acting == LOCAL_ADMIN.arn else acting))
        try:
            group = job.kind == "glueetl"
            return self._run_process(run, argv, env, path, active, deadline, group)
        finally:
            if scratch is not None:
                shutil.rmtree(scratch, ignore_errors=True)

    def _spark_env(self, scratch: Path, principal_arn: str | None) -> dict[str, str]:
        """A glueetl process's environment: lakebox's ``awsglue`` first on its
        PYTHONPATH, the lake on the Spark engine with its master, the SparkContext the
        script makes started with lakebox's settings (``spark-defaults.conf`` in the
        run's ``SPARK_CONF_DIR``: the master, 127.0.0.1, no UI, UTC, quiet logs, scratch
        space under ``scratch``), and the principal the lake acts as (the role session)."""
        from lakebox.engine.spark.session import _LOG4J, BASE_SETTINGS, SparkSettings

        config = self.lake.config
        settings = SparkSettings.from_env(config.spark_master, config.spark_driver_host)
        scratch.mkdir(parents=True, exist_ok=True)
        log4j = scratch / "log4j2.properties"
        log4j.write_text(_LOG4J)
        java = f"-Dlog4j2.configurationFile=file:{log4j} -Dderby.system.home={scratch}"
        conf = {
            **BASE_SETTINGS,
            **settings.driver_settings,
            "spark.master": settings.master,
            "spark.app.name": "lakebox-glueetl",
            "spark.local.dir": str(scratch / "local"),
            "spark.sql.warehouse.dir": str(scratch / "warehouse"),
            "spark.driver.extraJavaOptions": java,
            "spark.executor.extraJavaOptions": java,
            **dict(settings.extra),
        }
        if config.storage == "s3":
            from lakebox.engine.spark.session import add_class_path

            add_class_path(conf)  # Hadoop's S3A, which the lake reads and writes through
        (scratch / "spark-defaults.conf").write_text(
            "".join(f"{key} {value}\n" for key, value in conf.items())
        )
        python_path = [str(GLUE_SHIM)]
        if os.environ.get("PYTHONPATH"):
            python_path.append(os.environ["PYTHONPATH"])
        env = {
            "PYTHONPATH": os.pathsep.join(python_path),
            "LAKEBOX_ENGINE": "spark",
            "LAKEBOX_SPARK_MASTER": settings.master,
            "LAKEBOX_SPARK_DRIVER_HOST": settings.driver_host,
            "SPARK_CONF_DIR": str(scratch),
            "SPARK_SUBMIT_OPTS": f"-Dlog4j2.configurationFile=file:{log4j}",
            "PYSPARK_PYTHON": os.environ.get("PYSPARK_PYTHON") or sys.executable,
        }
        if principal_arn:
            env["LAKEBOX_GLUE_PRINCIPAL"] = principal_arn
        return env

    def _run_process(
        self,
        run: JobRun,
        argv: list[str],
        env: dict[str, str],
        path: Path,
        active: _Active,
        deadline: float,
        group: bool = False,
    ) -> tuple[str, str | None]:
        """Run the script's process; with ``group`` (a glueetl script, whose Spark runs
        in a JVM child), in a process group of its own, ended as a whole when the run
        ends or is stopped, so no JVM outlives its run."""
        assert run.log_path is not None
        log = Path(run.log_path)
        log.parent.mkdir(parents=True, exist_ok=True)
        err_path = log.with_suffix(".err")
        with log.open("wb") as out, err_path.open("wb") as err:
            proc = subprocess.Popen(
                argv, stdout=out, stderr=err, env=env, cwd=path.parent, start_new_session=group
            )
            code: int | None = None
            try:
                while True:
                    try:
                        code = proc.wait(POLL_SECONDS)
                        break
                    except subprocess.TimeoutExpired:
                        pass
                    if active.stop.is_set() or time.monotonic() > deadline:
                        break
            finally:
                if proc.poll() is None:
                    _signal(proc, signal.SIGTERM, group)
                    try:
                        proc.wait(5)
                    except subprocess.TimeoutExpired:
                        _signal(proc, signal.SIGKILL, group)
                        proc.wait()
                if group:  # what the script left in its group (a JVM): ended with it
                    _signal(proc, signal.SIGKILL, group)
            if code is None:
                if active.stop.is_set():
                    return STOPPED, "Job run was stopped"
                return TIMEOUT, f"Job run timed out after {run.timeout_minutes} minutes"
        stderr = err_path.read_text(errors="replace")
        with log.open("a") as out_text:
            out_text.write(stderr)
        if code == 0:
            return SUCCEEDED, None
        return FAILED, failure_line(stderr) or f"the script exited with status {code}"

    def _run_sql(
        self,
        run: JobRun,
        text: str,
        arguments: dict[str, str],
        active: _Active,
        deadline: float,
        principal: Principal,
    ) -> tuple[str, str | None]:
        from lakebox.sql.split import split_statements

        statements = split_statements(substitute(text, arguments))
        if not statements:
            return FAILED, "the SQL script holds no statement"
        qs = self.queries
        for number, st in enumerate(statements, 1):
            qid = qs.start_query_execution(
                st.text,
                database=arguments.get("--database"),
                workgroup=arguments.get("--workgroup", "primary"),
                output_location=arguments.get("--output_location"),
                principal=principal,
            )
            run.query_execution_ids.append(qid)
            self._save(run)
            while True:
                qe = qs.wait(qid, timeout=POLL_SECONDS * 2, principal=principal)
                if qe.done:
                    break
                if active.stop.is_set() or time.monotonic() > deadline:
                    stop_query(qs, qid, patience=60, principal=principal)
                    if active.stop.is_set():
                        return STOPPED, "Job run was stopped"
                    return TIMEOUT, f"Job run timed out after {run.timeout_minutes} minutes"
            if qe.state != "SUCCEEDED":
                return FAILED, (
                    f"statement {number} (line {st.line}) {qe.state}: "
                    f"{qe.state_change_reason or 'no reason given'} "
                    f"[QueryExecutionId {qid}]"
                )
        return SUCCEEDED, None


def _signal(proc: subprocess.Popen[bytes], sig: int, group: bool) -> None:
    """Send ``sig`` to the process, or to its whole process group."""
    try:
        if group:
            os.killpg(proc.pid, sig)
        else:
            proc.send_signal(sig)
    except (ProcessLookupError, PermissionError):
        pass


def _key(name: str) -> str:
    return name if name.startswith("--") else f"--{name}"


#: a JVM stack trace's lines, which end a PySpark script's stderr after its traceback
_JAVA_FRAME = re.compile(r"^(at [\w$.<>/]+\(.*\)|\.\.\. \d+ more|Caused by: .*)$")


def failure_line(stderr: str) -> str | None:
    """A failed script's ErrorMessage: its traceback's last line (Python's exception), or
    for a PySpark script that failed in the JVM (``Py4JJavaError``) the Java exception it
    carries, never a line of the JVM's stack trace."""
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    for i, line in enumerate(lines):
        if line.startswith("py4j.protocol.Py4JJavaError") and i + 1 < len(lines):
            cause = lines[i + 1]
            if cause.startswith(":"):
                return cause.lstrip(": ").strip() or line
    lines = [line for line in lines if not _JAVA_FRAME.match(line)]
    return lines[-1] if lines else None
