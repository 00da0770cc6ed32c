"""CloudTrailSerde over generated CloudTrail log files: records as rows, camelCase keys to
lower-case columns, JSON objects in STRING columns, and the Athena docs' DDL and queries."""

from __future__ import annotations

import datetime as dt
import gzip
import json
import random
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

import lakebox
from lakebox.engine.duckdb.formats.base import ReadRequest
from lakebox.engine.duckdb.formats.cloudtrail import (
    CLOUDTRAIL_INPUT,
    CLOUDTRAIL_SERDE,
    CloudTrailReader,
)
from lakebox.errors import DataError, InvalidRequestError

if TYPE_CHECKING:
    from tests.engine.duckdb.formats.conftest import Lake

ACCOUNT = "123456789012"
EVENTS = [
    ("s3.amazonaws.com", "GetObject", True),
    ("s3.amazonaws.com", "PutObject", False),
    ("s3.amazonaws.com", "DeleteBucket", False),
    ("ec2.amazonaws.com", "DescribeInstances", True),
    ("signin.amazonaws.com", "ConsoleLogin", False),
    ("sts.amazonaws.com", "AssumeRole", True),
]


def _identity(rng: random.Random, i: int) -> dict[str, Any] | None:
    kind = rng.choice(["IAMUser", "AssumedRole", "AWSService", "AWSAccount", None])
    if kind is None:
        return None
    if kind == "AWSService":
        return {"type": kind, "invokedBy": "cloudformation.amazonaws.com"}
    if kind == "AWSAccount":
        return {"type": kind, "principalId": "", "accountId": "ANONYMOUS_PRINCIPAL"}
    ident: dict[str, Any] = {
        "type": kind,
        "principalId": f"AIDA{i:06d}",
        "arn": f"arn:aws:iam::{ACCOUNT}:user/user{i % 7}",
        "accountId": ACCOUNT,
        "accessKeyId": f"AKIA{i:08d}",
        "userName": f"user{i % 7}",
    }
    if kind == "AssumedRole":
        ident["sessionContext"] = {
            "sessionIssuer": {
                "type": "Role",
                "principalId": "AROA1",
                "arn": f"arn:aws:iam::{ACCOUNT}:role/Admin",
                "accountId": ACCOUNT,
                "userName": "Admin",
            },
            "webIdFederationData": {},
            "attributes": {
                "creationDate": f"2024-03-1{i % 9}T01:02:03Z",
                "mfaAuthenticated": "true",
            },
        }
    return ident


def make_record(rng: random.Random, i: int, day: dt.date, region: str) -> dict[str, Any]:
    """One record shaped like CloudTrail's (record contents reference); optional keys are left
    out at random as CloudTrail leaves them out."""
    source, name, read_only = rng.choice(EVENTS)
    when = dt.datetime.combine(day, dt.time(rng.randrange(24), rng.randrange(60)))
    rec: dict[str, Any] = {
        "eventVersion": "1.08",
        "userIdentity": _identity(rng, i),
        "eventTime": when.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "eventSource": source,
        "eventName": name,
        "awsRegion": region,
        "sourceIPAddress": f"203.0.113.{i % 250}",
        "userAgent": rng.choice(["aws-cli/2.15.0", "console.amazonaws.com", "Boto3/1.34"]),
        "requestParameters": {"bucketName": f"bucket-{i % 3}", "key": f"data/{i}.csv"}
        if source == "s3.amazonaws.com"
        else None,
        "responseElements": {"ConsoleLogin": "Success"} if name == "ConsoleLogin" else None,
        "requestID": f"REQ{i:08d}",
        "eventID": f"00000000-0000-0000-0000-{i:012d}",
        "readOnly": read_only,
        "eventType": "AwsConsoleSignIn" if name == "ConsoleLogin" else "AwsApiCall",
        "managementEvent": True,
        "recipientAccountId": ACCOUNT,
        "eventCategory": "Management",
    }
    if name == "ConsoleLogin":
        rec["additionalEventData"] = {"MFAUsed": "No", "LoginTo": "https://console.aws"}
    if source == "s3.amazonaws.com":
        rec["resources"] = [
            {"ARN": f"arn:aws:s3:::bucket-{i % 3}/data/{i}.csv", "type": "AWS::S3::Object"},
            {
                "accountId": ACCOUNT,
                "type": "AWS::S3::Bucket",
                "ARN": f"arn:aws:s3:::bucket-{i % 3}",
            },
        ]
        rec["tlsDetails"] = {
            "tlsVersion": "TLSv1.3",
            "cipherSuite": "TLS_AES_128_GCM_SHA256",
            "clientProvidedHostHeader": f"bucket-{i % 3}.s3.amazonaws.com",
        }
    if i % 5 == 0:
        rec["errorCode"] = "AccessDenied"
        rec["errorMessage"] = "Access Denied"
    if i % 4 == 0:
        rec["vpcEndpointId"] = "vpce-1234"
    return {k: v for k, v in rec.items() if v is not None}


def log_file(records: list[dict[str, Any]], pretty: bool = False) -> bytes:
    return json.dumps({"Records": records}, indent=2 if pretty else None).encode()


def write_logs(
    lake: Lake, table: Any, count: int, files: int, codec: str, pretty: bool = False
) -> list[dict[str, Any]]:
    rng = random.Random(count * 31 + files)
    all_records = []
    for f in range(files):
        records = [
            make_record(rng, f * 1000 + i, dt.date(2024, 3, 14), "us-east-1") for i in range(count)
        ]
        all_records += records
        lake.write(
            table,
            f"{ACCOUNT}_CloudTrail_us-east-1_20240314T00{f:02d}Z_x.json",
            log_file(records, pretty),
            codec,
        )
    return all_records


COLUMNS = [
    ("eventversion", "string"),
    (
        "useridentity",
        "struct<type:string,principalid:string,arn:string,accountid:string,invokedby:string,"
        "accesskeyid:string,username:string,sessioncontext:struct<attributes:struct<"
        "mfaauthenticated:string,creationdate:string>,sessionissuer:struct<type:string,"
        "principalid:string,arn:string,accountid:string,username:string>>>",
    ),
    ("eventtime", "string"),
    ("eventname", "string"),
    ("sourceipaddress", "string"),
    ("errorcode", "string"),
    ("requestparameters", "string"),
    ("additionaleventdata", "string"),
    ("requestid", "string"),
    ("resources", "array<struct<arn:string,accountid:string,type:string>>"),
    ("readonly", "string"),
    ("managementevent", "boolean"),
    ("tlsdetails", "struct<tlsversion:string,ciphersuite:string,clientprovidedhostheader:string>"),
]


def _expected(rec: dict[str, Any]) -> tuple[Any, ...]:
    ident = rec.get("userIdentity")
    session = (ident or {}).get("sessionContext")
    expected_ident = None
    if ident is not None:
        expected_ident = {
            "type": ident.get("type"),
            "principalid": ident.get("principalId"),
            "arn": ident.get("arn"),
            "accountid": ident.get("accountId"),
            "invokedby": ident.get("invokedBy"),
            "accesskeyid": ident.get("accessKeyId"),
            "username": ident.get("userName"),
            "sessioncontext": None
            if session is None
            else {
                "attributes": {
                    "mfaauthenticated": session["attributes"]["mfaAuthenticated"],
                    "creationdate": session["attributes"]["creationDate"],
                },
                "sessionissuer": {
                    "type": "Role",
                    "principalid": "AROA1",
                    "arn": session["sessionIssuer"]["arn"],
                    "accountid": ACCOUNT,
                    "username": "Admin",
                },
            },
        }
    resources = rec.get("resources")
    tls = rec.get("tlsDetails")
    return (
        rec["eventVersion"],
        expected_ident,
        rec["eventTime"],
        rec["eventName"],
        rec["sourceIPAddress"],
        rec.get("errorCode"),
        rec.get("requestParameters"),
        rec.get("additionalEventData"),
        rec["requestID"],
        None
        if resources is None
        else [
            {"arn": r.get("ARN"), "accountid": r.get("accountId"), "type": r.get("type")}
            for r in resources
        ],
        "true" if rec["readOnly"] else "false",
        True,
        None
        if tls is None
        else {
            "tlsversion": tls["tlsVersion"],
            "ciphersuite": tls["cipherSuite"],
            "clientprovidedhostheader": tls["clientProvidedHostHeader"],
        },
    )


@pytest.mark.parametrize("codec", ["gzip", "none", "gzip-long-ext", "zstd", "bzip2"])
@pytest.mark.parametrize("pretty", [False, True], ids=["compact", "pretty"])
def test_records_become_rows_with_nested_fields(lake: Lake, codec: str, pretty: bool) -> None:
    t = lake.table(COLUMNS, serde=CLOUDTRAIL_SERDE, input_format=CLOUDTRAIL_INPUT)
    records = write_logs(lake, t, count=40, files=3, codec=codec, pretty=pretty)
    rows = lake.read(t)
    assert len(rows) == len(records) == 120
    by_id = {r[8]: r for r in rows}
    for rec in records:
        row = by_id[rec["requestID"]]
        expected = _expected(rec)
        for i in (6, 7):  # JSON text of objects: compare parsed
            assert (row[i] and json.loads(row[i])) == expected[i]
        assert row[:6] + row[8:] == expected[:6] + expected[8:]


def test_json_text_of_string_columns_keeps_nested_values(lake: Lake) -> None:
    t = lake.table(
        [("requestparameters", "string"), ("responseelements", "string"), ("eventname", "string")],
        serde=CLOUDTRAIL_SERDE,
    )
    params = {"bucketName": "b", "tags": [{"k": "v"}], "n": 3, "flag": False}
    lake.write(
        t,
        "one.json",
        log_file(
            [
                {"eventName": "A", "requestParameters": params, "responseElements": None},
                {"eventName": "B", "requestParameters": "plain text", "responseElements": [1, 2]},
            ]
        ),
        "gzip",
    )
    rows = sorted(lake.read(t), key=lambda r: r[2])
    assert json.loads(rows[0][0]) == params
    assert rows[0][1:] == (None, "A")
    assert rows[1] == ("plain text", "[1,2]", "B")


@pytest.mark.parametrize(
    ("content", "rows"),
    [
        (b'{"Records":[]}', 0),
        (b'{"Records":[{"eventName":"X"}]}', 1),
        (b'{"Records":null}', 0),
        (b'{"CloudTrailEvent":"digest, not records"}', 0),
    ],
)
def test_files_without_records(lake: Lake, content: bytes, rows: int) -> None:
    t = lake.table([("eventname", "string"), ("errorcode", "string")], serde=CLOUDTRAIL_SERDE)
    lake.write(t, "a.json", content, "gzip")
    assert len(lake.read(t)) == rows


def test_file_column_names_each_rows_file(lake: Lake) -> None:
    t = lake.table([("eventname", "string")], serde=CLOUDTRAIL_SERDE)
    lake.write(t, "a.json", log_file([{"eventName": "A1"}, {"eventName": "A2"}]), "gzip")
    lake.write(t, "b.json", log_file([{"eventName": "B1"}]), "none")
    ctx = lake.context()
    found = CloudTrailReader().scan_sql_with_file(
        ctx, ReadRequest(t, lake.files(t), t.columns), "__file"
    )
    assert found is not None
    sql, opened = found
    rows = lake.con.sql(f"SELECT eventname, __file FROM ({sql}) ORDER BY 1").fetchall()
    names = {Path(p).name: p for p in opened}
    assert rows == [("A1", names["a.json.gz"]), ("A2", names["a.json.gz"]), ("B1", names["b.json"])]


def test_validate_rejects_unparseable_column_type(lake: Lake) -> None:
    t = lake.table([("eventname", "strukt<a:string>")], serde=CLOUDTRAIL_SERDE)
    with pytest.raises(InvalidRequestError, match="eventname"):
        CloudTrailReader().validate(t)


# -- the Athena docs' DDL and queries through a session ---------------------------------

DOCS_DDL = """CREATE EXTERNAL TABLE cloudtrail_logs (
eventversion STRING,
useridentity STRUCT<
               type:STRING,
               principalid:STRING,
               arn:STRING,
               accountid:STRING,
               invokedby:STRING,
               accesskeyid:STRING,
               userName:STRING,
sessioncontext:STRUCT<
attributes:STRUCT<
               mfaauthenticated:STRING,
               creationdate:STRING>,
sessionissuer:STRUCT<
               type:STRING,
               principalId:STRING,
               arn:STRING,
               accountId:STRING,
               userName:STRING>>>,
eventtime STRING,
eventsource STRING,
eventname STRING,
awsregion STRING,
sourceipaddress STRING,
useragent STRING,
errorcode STRING,
errormessage STRING,
requestparameters STRING,
responseelements STRING,
additionaleventdata STRING,
requestid STRING,
eventid STRING,
resources ARRAY<STRUCT<
               ARN:STRING,
               accountId:STRING,
               type:STRING>>,
eventtype STRING,
apiversion STRING,
readonly STRING,
recipientaccountid STRING,
serviceeventdetails STRING,
sharedeventid STRING,
vpcendpointid STRING,
tlsDetails struct<tlsVersion:string, cipherSuite:string, clientProvidedHostHeader:string>
)
{partitioning}
ROW FORMAT SERDE 'com.amazon.emr.hive.serde.CloudTrailSerde'
STORED AS INPUTFORMAT 'com.amazon.emr.cloudtrail.CloudTrailInputFormat'
OUTPUTFORMAT 'org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat'
LOCATION 's3://cloudtrail-bucket/AWSLogs/{account}/CloudTrail/{suffix}'
{properties}"""

PROJECTION_PROPERTIES = """TBLPROPERTIES (
  'projection.enabled'='true',
  'projection.timestamp.format'='yyyy/MM/dd',
  'projection.timestamp.interval'='1',
  'projection.timestamp.interval.unit'='DAYS',
  'projection.timestamp.range'='2024/03/01,NOW',
  'projection.timestamp.type'='date',
  'storage.location.template'=
    's3://cloudtrail-bucket/AWSLogs/{account}/CloudTrail/us-east-1/${{timestamp}}')"""

DAYS = [dt.date(2024, 3, 14), dt.date(2024, 3, 15), dt.date(2024, 3, 17)]


def _deliver(
    session: lakebox.Session, region: str, day: dt.date, count: int
) -> list[dict[str, Any]]:
    """Two gzipped log files per day, at CloudTrail's object keys."""
    storage = session.lake.storage
    storage.ensure_bucket("cloudtrail-bucket")
    rng = random.Random(day.toordinal() + len(region))
    records = []
    for part in range(2):
        batch = [
            make_record(rng, day.toordinal() * 100 + part * 50 + i, day, region)
            for i in range(count)
        ]
        records += batch
        key = (
            f"AWSLogs/{ACCOUNT}/CloudTrail/{region}/{day:%Y/%m/%d}/"
            f"{ACCOUNT}_CloudTrail_{region}_{day:%Y%m%d}T0{part}05Z_a{part}.json.gz"
        )
        storage.write_bytes(f"s3://cloudtrail-bucket/{key}", gzip.compress(log_file(batch)))
    return records


@pytest.fixture
def trail(lake_home: Path) -> tuple[lakebox.Session, list[dict[str, Any]]]:
    session = lakebox.connect(lake_home)
    records: list[dict[str, Any]] = []
    for region in ("us-east-1", "eu-west-1"):
        for day in DAYS:
            records += _deliver(session, region, day, 25)
    session.sql(
        DOCS_DDL.format(
            partitioning="PARTITIONED BY (region string, year string, month string, day string)",
            account=ACCOUNT,
            suffix="",
            properties="",
        )
    )
    for region in ("us-east-1", "eu-west-1"):
        for day in DAYS:
            session.sql(
                f"""ALTER TABLE cloudtrail_logs ADD
                PARTITION (region='{region}', year='{day:%Y}', month='{day:%m}', day='{day:%d}')
                LOCATION 's3://cloudtrail-bucket/AWSLogs/{ACCOUNT}/CloudTrail/{region}/{day:%Y/%m/%d}/'"""
            )
    return session, records


def test_docs_template_query(trail: tuple[lakebox.Session, list[dict[str, Any]]]) -> None:
    session, records = trail
    result = session.sql(
        "SELECT useridentity.arn, eventname, sourceipaddress, eventtime FROM cloudtrail_logs "
        "LIMIT 100"
    )
    assert result.columns == ["arn", "eventname", "sourceipaddress", "eventtime"]
    assert result.rowcount == 100
    by_time = {(r["eventName"], r["sourceIPAddress"], r["eventTime"]) for r in records}
    assert all(row[1:] in by_time for row in result.fetchall())


def test_docs_nested_session_issuer_query(
    trail: tuple[lakebox.Session, list[dict[str, Any]]],
) -> None:
    session, records = trail
    rows = session.sql(
        """SELECT
            eventsource,
            eventname,
            useridentity.sessioncontext.attributes.creationdate,
            useridentity.sessioncontext.sessionissuer.arn
        FROM cloudtrail_logs
        WHERE useridentity.sessioncontext.sessionissuer.arn IS NOT NULL
        ORDER BY eventsource, eventname
        LIMIT 10"""
    ).fetchall()
    assumed = sorted(
        (
            r["eventSource"],
            r["eventName"],
            r["userIdentity"]["sessionContext"]["attributes"]["creationDate"],
            r["userIdentity"]["sessionContext"]["sessionIssuer"]["arn"],
        )
        for r in records
        if (r.get("userIdentity") or {}).get("type") == "AssumedRole"
    )
    assert len(rows) == 10
    assert [r[:2] for r in rows] == [r[:2] for r in assumed[:10]]
    assert all(r in assumed for r in rows)


def _deleted_buckets(records: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    return sorted(
        (
            (
                r["awsRegion"],
                res["ARN"].removeprefix("arn:aws:s3:::"),
                r["eventTime"],
                (r.get("userIdentity") or {}).get("userName"),
                res.get("accountId"),
            )
            for r in records
            if r["eventName"] == "DeleteBucket"
            for res in r["resources"]
        ),
        key=repr,
    )


def test_unnest_resources_rows_expand_to_columns(
    trail: tuple[lakebox.Session, list[dict[str, Any]]],
) -> None:
    session, records = trail
    rows = session.sql(
        """SELECT awsregion, replace(u.arn, 'arn:aws:s3:::') AS deleted_bucket,
            eventtime AS time_deleted, useridentity.username, u.accountid AS bucket_acct_id
        FROM cloudtrail_logs t
        CROSS JOIN UNNEST(t.resources) AS u (arn, accountid, type)
        WHERE eventname = 'DeleteBucket'"""
    ).fetchall()
    expected = _deleted_buckets(records)
    assert expected
    assert sorted(rows, key=repr) == expected


def test_docs_unnest_resources_query(trail: tuple[lakebox.Session, list[dict[str, Any]]]) -> None:
    session, records = trail
    rows = session.sql(
        """SELECT
            awsregion,
            replace(unnested.resources_entry.ARN,'arn:aws:s3:::') as deleted_bucket,
            eventtime AS time_deleted,
            useridentity.username,
            unnested.resources_entry.accountid as bucket_acct_id
        FROM cloudtrail_logs t
        CROSS JOIN UNNEST(t.resources) unnested (resources_entry)
        WHERE eventname = 'DeleteBucket'
        ORDER BY eventtime"""
    ).fetchall()
    assert sorted(rows, key=repr) == _deleted_buckets(records)


def test_json_extract_scalar_on_request_parameters(
    trail: tuple[lakebox.Session, list[dict[str, Any]]],
) -> None:
    session, records = trail
    rows = session.sql(
        """SELECT json_extract_scalar(requestparameters, '$.bucketName') AS bucket, count(*) AS n
        FROM cloudtrail_logs
        WHERE eventsource = 's3.amazonaws.com' AND errorcode IS NULL
          AND region = 'us-east-1' AND day = '15'
        GROUP BY 1 ORDER BY 1"""
    ).fetchall()
    counts: dict[str, int] = {}
    for r in records:
        if (
            r["eventSource"] == "s3.amazonaws.com"
            and "errorCode" not in r
            and r["awsRegion"] == "us-east-1"
            and r["eventTime"].startswith("2024-03-15")
        ):
            bucket = r["requestParameters"]["bucketName"]
            counts[bucket] = counts.get(bucket, 0) + 1
    assert rows == sorted(counts.items())


def test_docs_anonymous_requests_query(
    trail: tuple[lakebox.Session, list[dict[str, Any]]],
) -> None:
    session, records = trail
    rows = session.sql(
        """SELECT *
        FROM cloudtrail_logs
        WHERE
            eventsource = 's3.amazonaws.com' AND
            eventname in ('GetObject') AND
            useridentity.accountid LIKE '%ANONYMOUS%' AND
            useridentity.arn IS NULL AND
            requestparameters LIKE '%bucket-1%'"""
    )
    expected = {
        r["eventID"]
        for r in records
        if r["eventName"] == "GetObject"
        and (r.get("userIdentity") or {}).get("type") == "AWSAccount"
        and r["requestParameters"]["bucketName"] == "bucket-1"
    }
    assert expected
    eventid = rows.columns.index("eventid")
    assert {row[eventid] for row in rows.fetchall()} == expected


def test_docs_partition_projection_table(lake_home: Path) -> None:
    session = lakebox.connect(lake_home)
    records: list[dict[str, Any]] = []
    for day in DAYS:
        records += _deliver(session, "us-east-1", day, 10)
    session.sql(
        DOCS_DDL.format(
            partitioning="PARTITIONED BY (`timestamp` string)",
            account=ACCOUNT,
            suffix="us-east-1",
            properties=PROJECTION_PROPERTIES.format(account=ACCOUNT),
        ).replace("cloudtrail_logs", "cloudtrail_logs_pp")
    )
    rows = session.sql(
        """SELECT "timestamp", eventname, count(*) FROM cloudtrail_logs_pp
        WHERE "timestamp" >= '2024/03/15' AND "timestamp" < '2024/03/20'
        GROUP BY 1, 2 ORDER BY 1, 2"""
    ).fetchall()
    counts: dict[tuple[str, str], int] = {}
    for r in records:
        day = r["eventTime"][:10].replace("-", "/")
        if day >= "2024/03/15":
            counts[(day, r["eventName"])] = counts.get((day, r["eventName"]), 0) + 1
    assert rows == [(*k, v) for k, v in sorted(counts.items())]
    empty = session.sql(
        "SELECT count(*) FROM cloudtrail_logs_pp WHERE \"timestamp\" = '2024/03/16'"
    ).fetchall()
    assert empty == [(0,)]


def test_malformed_log_file_names_the_file(lake_home: Path) -> None:
    session = lakebox.connect(lake_home)
    storage = session.lake.storage
    storage.ensure_bucket("cloudtrail-bucket")
    storage.write_bytes(
        "s3://cloudtrail-bucket/ct/ok.json.gz", gzip.compress(log_file([{"eventName": "A"}]))
    )
    storage.write_bytes("s3://cloudtrail-bucket/ct/bad.json.gz", gzip.compress(b'{"Records":[{'))
    session.sql(
        """CREATE EXTERNAL TABLE ct (eventname string)
        ROW FORMAT SERDE 'com.amazon.emr.hive.serde.CloudTrailSerde'
        STORED AS INPUTFORMAT 'com.amazon.emr.cloudtrail.CloudTrailInputFormat'
        OUTPUTFORMAT 'org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat'
        LOCATION 's3://cloudtrail-bucket/ct/'"""
    )
    with pytest.raises(DataError, match=r"bad\.json\.gz"):
        session.sql("SELECT count(*) FROM ct").fetchall()


def test_docs_json_serde_over_cloudtrail_input_format(lake_home: Path) -> None:
    session = lakebox.connect(lake_home)
    records = _deliver(session, "us-east-1", DAYS[0], 5)
    ddl = DOCS_DDL.format(
        partitioning="", account=ACCOUNT, suffix="us-east-1/2024/03/14/", properties=""
    ).replace(CLOUDTRAIL_SERDE, "org.apache.hive.hcatalog.data.JsonSerDe")
    session.sql(ddl)
    rows = session.sql("SELECT eventid FROM cloudtrail_logs").fetchall()
    assert sorted(r[0] for r in rows if r[0] is not None) == sorted(r["eventID"] for r in records)


def test_undocumented_columns_match_keys_in_any_case(lake: Lake) -> None:
    t = lake.table(
        [("eventname", "string"), ("customfield", "int"), ("extra", "struct<innerkey:string>")],
        serde=CLOUDTRAIL_SERDE,
    )
    lake.write(
        t,
        "a.json",
        log_file(
            [
                {"eventName": "A", "CustomField": "7", "Extra": {"innerKey": "x"}},
                {"eventName": "B", "customfield": 8},
                {"eventName": "C", "CUSTOMFIELD": "not a number"},
            ]
        ),
        "gzip",
    )
    assert lake.read(t) == [("A", 7, {"innerkey": "x"}), ("B", 8, None), ("C", None, None)]


def test_user_identity_as_string_column(lake: Lake) -> None:
    t = lake.table(
        [("eventname", "string"), ("useridentity_as_string", "string")], serde=CLOUDTRAIL_SERDE
    )
    ident = {"type": "IAMUser", "userName": "ann", "sessionContext": {"attributes": {}}}
    lake.write(
        t,
        "a.json",
        log_file(
            [
                {"eventName": "A", "userIdentity": ident},
                {"eventName": "B", "userIdentity": None},
                {"eventName": "C"},
            ]
        ),
        "gzip",
    )
    rows = lake.read(t)
    assert [r[0] for r in rows] == ["A", "B", "C"]
    assert json.loads(rows[0][1]) == ident
    assert [r[1] for r in rows[1:]] == [None, None]
