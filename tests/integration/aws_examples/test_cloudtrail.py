"""CloudTrail logs: the Athena User Guide's DDL (manual partitions, and partition
projection) and its example queries, over sample CloudTrail log files in the documented
record format ({"Records": [...]}, gzip), checked against the same files read by json."""

from __future__ import annotations

import json
from typing import Any

import pytest

from integration.aws_examples.conftest import Athena, relocate, unordered

URL = "https://docs.aws.amazon.com/athena/latest/ug/cloudtrail-logs.html"

# Verbatim from URL ("Creating a table for CloudTrail logs in Athena using manual
# partitioning"); only LOCATION's bucket/prefix is replaced at run time.
CREATE_TABLE = """CREATE EXTERNAL TABLE cloudtrail_logs (
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
               userName:STRING>,
    ec2RoleDelivery:string,
    webIdFederationData:map<string,string>
  >
>,
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
               arn:STRING,
               accountid:STRING,
               type:STRING>>,
eventtype STRING,
apiversion STRING,
readonly STRING,
recipientaccountid STRING,
serviceeventdetails STRING,
sharedeventid STRING,
vpcendpointid STRING,
tlsDetails struct<
  tlsVersion:string,
  cipherSuite:string,
  clientProvidedHostHeader:string>
)
PARTITIONED BY (region string, year string, month string, day string)
ROW FORMAT SERDE 'org.apache.hive.hcatalog.data.JsonSerDe'
STORED AS INPUTFORMAT 'com.amazon.emr.cloudtrail.CloudTrailInputFormat'
OUTPUTFORMAT 'org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat'
LOCATION 's3://CloudTrail_bucket_name/AWSLogs/Account_ID/CloudTrail/';"""

# Verbatim from URL; the page's placeholders `table_name` and the bucket/account of
# LOCATION are replaced at run time.
ADD_PARTITION = """ALTER TABLE table_name ADD 
   PARTITION (region='us-east-1',
              year='2019',
              month='02',
              day='01')
   LOCATION 's3://cloudtrail_bucket_name/AWSLogs/Account_ID/CloudTrail/us-east-1/2019/02/01/'"""

# Verbatim from URL ("Creating the table for CloudTrail logs in Athena using partition
# projection"); only the bucket/account/region of LOCATION and the template change.
CREATE_PROJECTED = """CREATE EXTERNAL TABLE cloudtrail_logs_pp(
    eventVersion STRING,
    userIdentity STRUCT<
        type: STRING,
        principalId: STRING,
        arn: STRING,
        accountId: STRING,
        invokedBy: STRING,
        accessKeyId: STRING,
        userName: STRING,
        sessionContext: STRUCT<
            attributes: STRUCT<
                mfaAuthenticated: STRING,
                creationDate: STRING>,
            sessionIssuer: STRUCT<
                type: STRING,
                principalId: STRING,
                arn: STRING,
                accountId: STRING,
                userName: STRING>,
            ec2RoleDelivery:string,
            webIdFederationData:map<string,string>
        >
    >,
    eventTime STRING,
    eventSource STRING,
    eventName STRING,
    awsRegion STRING,
    sourceIpAddress STRING,
    userAgent STRING,
    errorCode STRING,
    errorMessage STRING,
    requestparameters STRING,
    responseelements STRING,
    additionaleventdata STRING,
    requestId STRING,
    eventId STRING,
    readOnly STRING,
    resources ARRAY<STRUCT<
        arn: STRING,
        accountId: STRING,
        type: STRING>>,
    eventType STRING,
    apiVersion STRING,
    recipientAccountId STRING,
    serviceEventDetails STRING,
    sharedEventID STRING,
    vpcendpointid STRING,
    tlsDetails struct<
        tlsVersion:string,
        cipherSuite:string,
        clientProvidedHostHeader:string>
  )
PARTITIONED BY (
   `timestamp` string)
ROW FORMAT SERDE 'org.apache.hive.hcatalog.data.JsonSerDe'
STORED AS INPUTFORMAT 'com.amazon.emr.cloudtrail.CloudTrailInputFormat'
OUTPUTFORMAT 'org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat'
LOCATION
  's3://bucket/AWSLogs/account-id/CloudTrail/aws-region'
TBLPROPERTIES (
  'projection.enabled'='true', 
  'projection.timestamp.format'='yyyy/MM/dd', 
  'projection.timestamp.interval'='1', 
  'projection.timestamp.interval.unit'='DAYS', 
  'projection.timestamp.range'='2020/01/01,NOW', 
  'projection.timestamp.type'='date', 
  'storage.location.template'='s3://bucket/AWSLogs/account-id/CloudTrail/aws-region/${timestamp}')"""

# Verbatim from URL ("Querying nested fields", "Example query", "Tips").
Q_NESTED = """SELECT 
    eventsource, 
    eventname,
    useridentity.sessioncontext.attributes.creationdate,
    useridentity.sessioncontext.sessionissuer.arn
FROM cloudtrail_logs
WHERE useridentity.sessioncontext.sessionissuer.arn IS NOT NULL
ORDER BY eventsource, eventname
LIMIT 10"""

Q_DATAFILE = """SELECT 
    awsregion,
    replace(unnested.resources_entry.ARN,'arn:aws:s3:::') as s3_resource,
    eventname,
    eventtime,
    useragent
FROM cloudtrail_logs t
CROSS JOIN UNNEST(t.resources) unnested (resources_entry)
WHERE unnested.resources_entry.ARN LIKE '%example/datafile.txt'
ORDER BY eventtime"""

Q_DELETE_BUCKET = """SELECT 
    awsregion,
    replace(unnested.resources_entry.ARN,'arn:aws:s3:::') as deleted_bucket,
    eventtime AS time_deleted,
    useridentity.username, 
    unnested.resources_entry.accountid as bucket_acct_id 
FROM cloudtrail_logs t
CROSS JOIN UNNEST(t.resources) unnested (resources_entry)
WHERE eventname = 'DeleteBucket'
ORDER BY eventtime"""

# the page's placeholder '[your bucket name ]' is replaced by the sample bucket at run time
Q_ANONYMOUS = """SELECT *
FROM cloudtrail_logs
WHERE 
    eventsource = 's3.amazonaws.com' AND 
    eventname in ('GetObject') AND 
    useridentity.accountid = 'anonymous' AND 
    useridentity.arn IS NULL AND
    requestparameters LIKE '%[your bucket name ]%';"""

Q_TEMPLATE = """SELECT
 useridentity.arn,
 eventname,
 sourceipaddress,
 eventtime
FROM cloudtrail_logs
LIMIT 100;"""

ACCOUNT = "123456789012"
PREFIX = f"s3://trail-sample/AWSLogs/{ACCOUNT}/CloudTrail/"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/Admin"


def assumed_role(day: str) -> dict[str, Any]:
    return {
        "type": "AssumedRole",
        "principalId": "AROAEXAMPLE:session",
        "arn": f"arn:aws:sts::{ACCOUNT}:assumed-role/Admin/session",
        "accountId": ACCOUNT,
        "accessKeyId": "ASIAEXAMPLE",
        "sessionContext": {
            "sessionIssuer": {
                "type": "Role",
                "principalId": "AROAEXAMPLE",
                "arn": ROLE,
                "accountId": ACCOUNT,
                "userName": "Admin",
            },
            "webIdFederationData": {},
            "attributes": {"creationDate": f"{day}T08:00:00Z", "mfaAuthenticated": "false"},
        },
    }


def event(name: str, source: str, time: str, ident: dict[str, Any], **extra: Any) -> dict[str, Any]:
    """One record in the documented CloudTrail record format (camelCase keys)."""
    rec = {
        "eventVersion": "1.08",
        "userIdentity": ident,
        "eventTime": time,
        "eventSource": source,
        "eventName": name,
        "awsRegion": "us-east-1",
        "sourceIPAddress": "192.0.2.44",
        "userAgent": "[aws-cli/2.13.0 Python/3.11.4 Linux/5.10 botocore/2.4.5]",
        "requestID": f"REQ{time[-9:-1].replace(':', '')}",
        "eventID": f"evt-{name}-{time}",
        "readOnly": name.startswith(("Get", "Describe")),
        "eventType": "AwsApiCall",
        "managementEvent": True,
        "recipientAccountId": ACCOUNT,
    }
    rec.update(extra)
    return rec


RECORDS = [
    event(
        "GetObject",
        "s3.amazonaws.com",
        "2019-02-01T09:00:00Z",
        assumed_role("2019-02-01"),
        requestParameters={"bucketName": "examplebucket", "key": "example/datafile.txt"},
        resources=[
            {"type": "AWS::S3::Object", "ARN": "arn:aws:s3:::examplebucket/example/datafile.txt"},
            {"accountId": ACCOUNT, "type": "AWS::S3::Bucket", "ARN": "arn:aws:s3:::examplebucket"},
        ],
    ),
    event(
        "GetObject",
        "s3.amazonaws.com",
        "2019-02-01T10:15:00Z",
        {"type": "AWSAccount", "principalId": "", "accountId": "anonymous"},
        userAgent="Mozilla/5.0 (Windows NT 10.0; Win64; x64)",
        requestParameters={"bucketName": "public-sample-bucket", "key": "photos/a b.jpg"},
        resources=[
            {"type": "AWS::S3::Object", "ARN": "arn:aws:s3:::public-sample-bucket/photos/a b.jpg"}
        ],
    ),
    event(
        "DeleteBucket",
        "s3.amazonaws.com",
        "2019-02-01T11:30:00Z",
        {
            "type": "IAMUser",
            "principalId": "AIDAEXAMPLE",
            "arn": f"arn:aws:iam::{ACCOUNT}:user/alice",
            "accountId": ACCOUNT,
            "accessKeyId": "AKIAEXAMPLE",
            "userName": "alice",
        },
        requestParameters={"bucketName": "old-bucket", "Host": "old-bucket.s3.amazonaws.com"},
        resources=[
            {"accountId": ACCOUNT, "type": "AWS::S3::Bucket", "ARN": "arn:aws:s3:::old-bucket"}
        ],
    ),
    event(
        "DescribeInstances",
        "ec2.amazonaws.com",
        "2019-02-01T12:00:00Z",
        assumed_role("2019-02-01"),
        requestParameters={"instancesSet": {}, "filterSet": {}},
        responseElements=None,
    ),
    event(
        "PutObject",
        "s3.amazonaws.com",
        "2019-02-01T12:30:00Z",
        assumed_role("2019-01-31"),
        errorCode="AccessDenied",
        errorMessage="Access Denied",
        requestParameters={"bucketName": "examplebucket", "key": "other/datafile.txt"},
        resources=[
            {"type": "AWS::S3::Object", "ARN": "arn:aws:s3:::examplebucket/other/datafile.txt"}
        ],
    ),
    event(
        "ConsoleLogin",
        "signin.amazonaws.com",
        "2019-02-01T07:45:00Z",
        {
            "type": "Root",
            "principalId": ACCOUNT,
            "arn": f"arn:aws:iam::{ACCOUNT}:root",
            "accountId": ACCOUNT,
        },
        additionalEventData={"LoginTo": "https://console.aws.amazon.com/", "MFAUsed": "No"},
        responseElements={"ConsoleLogin": "Success"},
        requestParameters=None,
    ),
]
# a record of a day whose partition is never added: the partitioned table must not read it
OTHER_DAY = [
    event("ListBuckets", "s3.amazonaws.com", "2019-02-02T00:00:01Z", assumed_role("2019-02-02"))
]


def put_records(athena: Athena, folder: str, records: list[dict[str, Any]], stamp: str) -> None:
    name = f"{ACCOUNT}_CloudTrail_us-east-1_{stamp}_abcdEXAMPLE.json.gz"
    athena.put(folder + name, json.dumps({"Records": records}), gzipped=True)


@pytest.fixture
def trail(athena: Athena) -> Athena:
    put_records(athena, f"{PREFIX}us-east-1/2019/02/01/", RECORDS, "20190201T1235Z")
    put_records(athena, f"{PREFIX}us-east-1/2019/02/02/", OTHER_DAY, "20190202T0005Z")
    athena.run(
        relocate(
            CREATE_TABLE, ("s3://CloudTrail_bucket_name/AWSLogs/Account_ID/CloudTrail/", PREFIX)
        )
    )
    add = relocate(
        ADD_PARTITION,
        ("ALTER TABLE table_name", "ALTER TABLE cloudtrail_logs"),
        ("s3://cloudtrail_bucket_name/AWSLogs/Account_ID/CloudTrail/", PREFIX),
    )
    athena.run(add)
    return athena


def issuer_arn(rec: dict[str, Any]) -> str | None:
    return rec["userIdentity"].get("sessionContext", {}).get("sessionIssuer", {}).get("arn")


def test_nested_fields(trail: Athena) -> None:
    expected = sorted(
        (
            (
                r["eventSource"],
                r["eventName"],
                r["userIdentity"]["sessionContext"]["attributes"]["creationDate"],
                issuer_arn(r),
            )
            for r in RECORDS
            if issuer_arn(r) is not None
        ),
        key=lambda row: (row[0], row[1]),
    )
    assert len(expected) == 3
    assert trail.run(Q_NESTED) == expected


def unnested(pred: Any) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    return [(r, res) for r in RECORDS for res in r.get("resources") or [] if pred(r, res)]


def test_resources_ending_in_datafile(trail: Athena) -> None:
    expected = [
        (
            r["awsRegion"],
            res["ARN"].replace("arn:aws:s3:::", ""),
            r["eventName"],
            r["eventTime"],
            r["userAgent"],
        )
        for r, res in unnested(lambda r, res: res["ARN"].endswith("example/datafile.txt"))
    ]
    assert len(expected) == 1
    assert trail.run(Q_DATAFILE) == sorted(expected, key=lambda row: row[3])


def test_deleted_buckets(trail: Athena) -> None:
    expected = [
        (
            r["awsRegion"],
            res["ARN"].replace("arn:aws:s3:::", ""),
            r["eventTime"],
            r["userIdentity"].get("userName"),
            res.get("accountId"),
        )
        for r, res in unnested(lambda r, res: r["eventName"] == "DeleteBucket")
    ]
    assert expected == [("us-east-1", "old-bucket", "2019-02-01T11:30:00Z", "alice", ACCOUNT)]
    assert trail.run(Q_DELETE_BUCKET) == expected


def test_anonymous_requests(trail: Athena) -> None:
    query = Q_ANONYMOUS.replace("[your bucket name ]", "public-sample-bucket")
    expected = [
        r["eventID"]
        for r in RECORDS
        if r["eventSource"] == "s3.amazonaws.com"
        and r["eventName"] == "GetObject"
        and r["userIdentity"].get("accountId") == "anonymous"
        and r["userIdentity"].get("arn") is None
        and "public-sample-bucket" in json.dumps(r.get("requestParameters"))
    ]
    assert len(expected) == 1
    result = trail.session.sql(query)
    rows = result.to_pylist()
    assert [row["eventid"] for row in rows] == expected
    (row,) = rows
    (rec,) = [r for r in RECORDS if r["eventID"] == expected[0]]
    # the scalar columns and the JSON-text columns, compared with the record
    assert row["eventtime"] == rec["eventTime"]
    assert row["useragent"] == rec["userAgent"]
    assert row["sourceipaddress"] == rec["sourceIPAddress"]
    assert json.loads(row["requestparameters"]) == rec["requestParameters"]
    assert row["useridentity"]["type"] == "AWSAccount"
    assert row["useridentity"]["arn"] is None
    assert [r["arn"] for r in row["resources"]] == [r["ARN"] for r in rec["resources"]]
    assert (row["region"], row["year"], row["month"], row["day"]) == (
        "us-east-1",
        "2019",
        "02",
        "01",
    )


def test_basic_template(trail: Athena) -> None:
    expected = [
        (r["userIdentity"].get("arn"), r["eventName"], r["sourceIPAddress"], r["eventTime"])
        for r in RECORDS
    ]
    assert unordered(trail.run(Q_TEMPLATE)) == unordered(expected)


def test_projected_table_reads_each_day(athena: Athena) -> None:
    folder = f"{PREFIX}us-east-1/"
    put_records(athena, f"{folder}2020/03/04/", RECORDS[:2], "20200304T0000Z")
    put_records(athena, f"{folder}2020/03/05/", OTHER_DAY, "20200305T0000Z")
    ddl = relocate(
        CREATE_PROJECTED,
        ("s3://bucket/AWSLogs/account-id/CloudTrail/aws-region", folder.rstrip("/")),
    )
    athena.run(ddl)
    # not a query of the page (it has none for this table): each record with its day
    got = athena.run('SELECT eventid, "timestamp" FROM cloudtrail_logs_pp')
    expected = [(r["eventID"], "2020/03/04") for r in RECORDS[:2]]
    expected += [(r["eventID"], "2020/03/05") for r in OTHER_DAY]
    assert unordered(got) == unordered(expected)
