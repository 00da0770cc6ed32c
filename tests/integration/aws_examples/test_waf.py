"""AWS WAF logs: the Athena User Guide's two WAF tables (partition projection by region and
date, and unpartitioned) and every example query on the projected table, over sample WAF
log records (JSON, one per line) in the projected folders, checked against the records in
plain Python. Queries that look at "the last N days" get records dated relative to now."""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from typing import Any

import pytest

from integration.aws_examples.conftest import Athena, relocate, unordered

URL = "https://docs.aws.amazon.com/athena/latest/ug/waf-logs.html"

# Statements verbatim from URL. Only the buckets/prefixes of LOCATION and of the
# projection's storage.location.template are replaced at run time (the page uses
# 's3://bucket/...' in one and 's3://DOC-EXAMPLE-BUCKET/...' in the other).
CREATE_PROJECTED = """CREATE EXTERNAL TABLE `waf_logs`(
  `timestamp` bigint,
  `formatversion` int,
  `webaclid` string,
  `terminatingruleid` string,
  `terminatingruletype` string,
  `action` string,
  `terminatingrulematchdetails` array <
                                    struct <
                                        conditiontype: string,
                                        sensitivitylevel: string,
                                        location: string,
                                        matcheddata: array < string >
                                          >
                                     >,
  `httpsourcename` string,
  `httpsourceid` string,
  `rulegrouplist` array <
                      struct <
                          rulegroupid: string,
                          terminatingrule: struct <
                                              ruleid: string,
                                              action: string,
                                              rulematchdetails: array <
                                                                   struct <
                                                                       conditiontype: string,
                                                                       sensitivitylevel: string,
                                                                       location: string,
                                                                       matcheddata: array < string >
                                                                          >
                                                                    >
                                                >,
                          nonterminatingmatchingrules: array <
                                                              struct <
                                                                  ruleid: string,
                                                                  action: string,
                                                                  overriddenaction: string,
                                                                  rulematchdetails: array <
                                                                                       struct <
                                                                                           conditiontype: string,
                                                                                           sensitivitylevel: string,
                                                                                           location: string,
                                                                                           matcheddata: array < string >
                                                                                              >
                                                                                       >
                                                                    >
                                                             >,
                          excludedrules: string
                            >
                       >,
`ratebasedrulelist` array <
                         struct <
                             ratebasedruleid: string,
                             limitkey: string,
                             maxrateallowed: int
                               >
                          >,
  `nonterminatingmatchingrules` array <
                                    struct <
                                        ruleid: string,
                                        action: string,
                                        rulematchdetails: array <
                                                             struct <
                                                                 conditiontype: string,
                                                                 sensitivitylevel: string,
                                                                 location: string,
                                                                 matcheddata: array < string >
                                                                    >
                                                             >,
                                        captcharesponse: struct <
                                                            responsecode: string,
                                                            solvetimestamp: string
                                                             >
                                          >
                                     >,
  `requestheadersinserted` array <
                                struct <
                                    name: string,
                                    value: string
                                      >
                                 >,
  `responsecodesent` string,
  `httprequest` struct <
                    clientip: string,
                    country: string,
                    headers: array <
                                struct <
                                    name: string,
                                    value: string
                                      >
                                 >,
                    uri: string,
                    args: string,
                    httpversion: string,
                    httpmethod: string,
                    requestid: string
                      >,
  `labels` array <
               struct <
                   name: string
                     >
                >,
  `captcharesponse` struct <
                        responsecode: string,
                        solvetimestamp: string,
                        failureReason: string
                          >
)
PARTITIONED BY ( 
`region` string, 
`date` string) 
ROW FORMAT SERDE 
  'org.openx.data.jsonserde.JsonSerDe' 
STORED AS INPUTFORMAT 
  'org.apache.hadoop.mapred.TextInputFormat' 
OUTPUTFORMAT 
  'org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat'
LOCATION
  's3://bucket/AWSLogs/accountID/WAFLogs/region/webACL/'
TBLPROPERTIES(
 'projection.enabled' = 'true',
 'projection.region.type' = 'enum',
 'projection.region.values' = 'us-east-1,us-west-2,eu-central-1,eu-west-1',
 'projection.date.type' = 'date',
 'projection.date.range' = '2021/01/01,NOW',
 'projection.date.format' = 'yyyy/MM/dd',
 'projection.date.interval' = '1',
 'projection.date.interval.unit' = 'DAYS',
 'storage.location.template' = 's3://DOC-EXAMPLE-BUCKET/AWSLogs/accountID/WAFLogs/${region}/webACL/${date}/')"""

CREATE_TABLE = """CREATE EXTERNAL TABLE `waf_logs`(
  `timestamp` bigint,
  `formatversion` int,
  `webaclid` string,
  `terminatingruleid` string,
  `terminatingruletype` string,
  `action` string,
  `terminatingrulematchdetails` array <
                                    struct <
                                        conditiontype: string,
                                        sensitivitylevel: string,
                                        location: string,
                                        matcheddata: array < string >
                                          >
                                     >,
  `httpsourcename` string,
  `httpsourceid` string,
  `rulegrouplist` array <
                      struct <
                          rulegroupid: string,
                          terminatingrule: struct <
                                              ruleid: string,
                                              action: string,
                                              rulematchdetails: array <
                                                                   struct <
                                                                       conditiontype: string,
                                                                       sensitivitylevel: string,
                                                                       location: string,
                                                                       matcheddata: array < string >
                                                                          >
                                                                    >
                                                >,
                          nonterminatingmatchingrules: array <
                                                              struct <
                                                                  ruleid: string,
                                                                  action: string,
                                                                  overriddenaction: string,
                                                                  rulematchdetails: array <
                                                                                       struct <
                                                                                           conditiontype: string,
                                                                                           sensitivitylevel: string,
                                                                                           location: string,
                                                                                           matcheddata: array < string >
                                                                                              >
                                                                                       >
                                                                    >
                                                             >,
                          excludedrules: string
                            >
                       >,
`ratebasedrulelist` array <
                         struct <
                             ratebasedruleid: string,
                             limitkey: string,
                             maxrateallowed: int
                               >
                          >,
  `nonterminatingmatchingrules` array <
                                    struct <
                                        ruleid: string,
                                        action: string,
                                        rulematchdetails: array <
                                                             struct <
                                                                 conditiontype: string,
                                                                 sensitivitylevel: string,
                                                                 location: string,
                                                                 matcheddata: array < string >
                                                                    >
                                                             >,
                                        captcharesponse: struct <
                                                            responsecode: string,
                                                            solvetimestamp: string
                                                             >
                                          >
                                     >,
  `requestheadersinserted` array <
                                struct <
                                    name: string,
                                    value: string
                                      >
                                 >,
  `responsecodesent` string,
  `httprequest` struct <
                    clientip: string,
                    country: string,
                    headers: array <
                                struct <
                                    name: string,
                                    value: string
                                      >
                                 >,
                    uri: string,
                    args: string,
                    httpversion: string,
                    httpmethod: string,
                    requestid: string
                      >,
  `labels` array <
               struct <
                   name: string
                     >
                >,
  `captcharesponse` struct <
                        responsecode: string,
                        solvetimestamp: string,
                        failureReason: string
                          >
)
ROW FORMAT SERDE 'org.openx.data.jsonserde.JsonSerDe'
STORED AS INPUTFORMAT 'org.apache.hadoop.mapred.TextInputFormat'
OUTPUTFORMAT 'org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat'
LOCATION 's3://DOC-EXAMPLE-BUCKET/prefix/'"""

Q_REFERERS = """WITH test_dataset AS 
  (SELECT header FROM waf_logs
    CROSS JOIN UNNEST(httprequest.headers) AS t(header) WHERE "date" >= '2021/03/01'
    AND "date" < '2021/03/31')
SELECT COUNT(*) referer_count 
FROM test_dataset 
WHERE LOWER(header.name)='referer' AND header.value LIKE '%amazon%'"""

Q_EXCLUDED_RULES = """WITH test_dataset AS 
  (SELECT * FROM waf_logs 
    CROSS JOIN UNNEST(rulegrouplist) AS t(allrulegroups))
SELECT 
  COUNT(*) AS count, 
  "httprequest"."clientip", 
  "allrulegroups"."excludedrules",
  "allrulegroups"."ruleGroupId"
FROM test_dataset 
WHERE allrulegroups.excludedrules IS NOT NULL AND from_unixtime(timestamp/1000) > now() - interval '10' day
GROUP BY "httprequest"."clientip", "allrulegroups"."ruleGroupId", "allrulegroups"."excludedrules"
ORDER BY count DESC"""

Q_COUNTED_MANAGED = """SELECT
 count(*) AS count,
 httpsourceid,
 httprequest.clientip,
 t.rulegroupid, 
 t.nonTerminatingMatchingRules
FROM "waf_logs" 
CROSS JOIN UNNEST(rulegrouplist) AS t(t) 
WHERE action <> 'BLOCK' AND cardinality(t.nonTerminatingMatchingRules) > 0 
GROUP BY t.nonTerminatingMatchingRules, action, httpsourceid, httprequest.clientip, t.rulegroupid 
ORDER BY "count" DESC 
Limit 50"""

Q_COUNTED_CUSTOM = """SELECT
  count(*) AS count,
         httpsourceid,
         httprequest.clientip,
         t.ruleid,
         t.action
FROM "waf_logs" 
CROSS JOIN UNNEST(nonterminatingmatchingrules) AS t(t) 
WHERE action <> 'BLOCK' AND cardinality(nonTerminatingMatchingRules) > 0 
GROUP BY t.ruleid, t.action, httpsourceid, httprequest.clientip 
ORDER BY "count" DESC
Limit 50"""

Q_ISO_TIME = """SELECT to_iso8601(from_unixtime(timestamp / 1000)) as time_ISO_8601,
       httpsourcename,
       httpsourceid,
       httprequest
FROM waf_logs
LIMIT 10;"""

Q_LAST_DAY = """SELECT to_iso8601(from_unixtime(timestamp/1000)) AS time_ISO_8601, 
       httpsourcename, 
       httpsourceid, 
       httprequest 
FROM waf_logs
WHERE from_unixtime(timestamp/1000) > now() - interval '1' day
LIMIT 10;"""

Q_IP_RANGE = """SELECT * 
FROM waf_logs 
WHERE httprequest.clientip='53.21.198.66' AND "date" >= '2021/03/01' AND "date" < '2021/03/31'"""

Q_FIVE_MINUTES = '''WITH test_dataset AS 
  (SELECT 
     format_datetime(from_unixtime((timestamp/1000) - ((minute(from_unixtime(timestamp / 1000))%5) * 60)),'yyyy-MM-dd HH:mm') AS five_minutes_ts,
     "httprequest"."clientip" 
     FROM waf_logs 
     WHERE "date" >= '2021/03/01' AND "date" < '2021/03/31')
SELECT five_minutes_ts,"clientip",count(*) ip_count 
FROM test_dataset 
GROUP BY five_minutes_ts,"clientip"'''

Q_FORWARDED_FOR = """WITH test_dataset AS
  (SELECT header
   FROM waf_logs
   CROSS JOIN UNNEST (httprequest.headers) AS t(header)
   WHERE from_unixtime("timestamp"/1000) > now() - interval '10' DAY) 
SELECT header.value AS ip,
       count(*) AS COUNT 
FROM test_dataset 
WHERE header.name='X-Forwarded-For' 
GROUP BY header.value 
ORDER BY COUNT DESC"""

Q_RATE_BASED_TOP = """SELECT COUNT(httpRequest.clientIp) as count,
httpRequest.clientIp
FROM waf_logs
WHERE terminatingruletype='RATE_BASED' AND action='BLOCK' and "date" >= '2021/03/01'
AND "date" < '2021/03/31'
GROUP BY httpRequest.clientIp
ORDER BY count DESC
LIMIT 100"""

Q_COUNTRY_BLOCKED = """SELECT 
  COUNT(httpRequest.country) as count, 
  httpRequest.country 
FROM waf_logs
WHERE 
  terminatingruletype='RATE_BASED' AND 
  httpRequest.country='IE'
GROUP BY httpRequest.country
ORDER BY count
LIMIT 100;"""

Q_BLOCKED_GROUPS = """SELECT 
  COUNT(*) AS count,
  webaclid,
  terminatingruleid,
  httprequest.clientip,
  httprequest.uri
FROM waf_logs
WHERE action='BLOCK'
GROUP BY webaclid, terminatingruleid, httprequest.clientip, httprequest.uri
ORDER BY count DESC
LIMIT 100;"""

Q_RULE_MATCHED = """SELECT 
  COUNT(*) AS count,
  webaclid,
  action,
  httprequest.clientip,
  httprequest.uri
FROM waf_logs
WHERE terminatingruleid='e9dd190d-7a43-4c06-bcea-409613d9506e'
GROUP BY webaclid, action, httprequest.clientip, httprequest.uri
ORDER BY count DESC
LIMIT 100;"""

Q_TOP_BLOCKED = """SELECT "httprequest"."clientip", "count"(*) "ipcount", "httprequest"."country"
FROM waf_logs
WHERE "action" = 'BLOCK' and "date" >= '2021/03/01'
AND "date" < '2021/03/31'
GROUP BY "httprequest"."clientip", "httprequest"."country"
ORDER BY "ipcount" DESC limit 100"""

ACL = "arn:aws:wafv2:us-east-1:123456789012:regional/webacl/test/1a2b3c4d"
OURS = "s3://waf-sample/AWSLogs/123456789012/WAFLogs/"
NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)


def ms(when: dt.datetime) -> int:
    return int(when.timestamp() * 1000)


def waf(
    when: dt.datetime,
    action: str,
    rule: str,
    rule_type: str,
    ip: str,
    country: str,
    uri: str,
    headers: dict[str, str],
    groups: list[dict[str, Any]] | None = None,
    counted: list[str] | None = None,
) -> dict[str, Any]:
    """One WAF log record in the documented structure (camel-case keys, as WAF writes
    them; the OpenX SerDe matches them to the lower-case columns)."""
    return {
        "timestamp": ms(when),
        "formatVersion": 1,
        "webaclId": ACL,
        "terminatingRuleId": rule,
        "terminatingRuleType": rule_type,
        "action": action,
        "terminatingRuleMatchDetails": [],
        "httpSourceName": "ALB",
        "httpSourceId": "123456789012-app/my-alb/1234567890abcdef",
        "ruleGroupList": groups or [],
        "rateBasedRuleList": [],
        "nonTerminatingMatchingRules": [
            {"ruleId": r, "action": "COUNT", "ruleMatchDetails": []} for r in counted or []
        ],
        "requestHeadersInserted": None,
        "responseCodeSent": None,
        "httpRequest": {
            "clientIp": ip,
            "country": country,
            "headers": [{"name": k, "value": v} for k, v in headers.items()],
            "uri": uri,
            "args": "",
            "httpVersion": "HTTP/1.1",
            "httpMethod": "GET",
            "requestId": f"rid-{ms(when)}",
        },
        "labels": [{"name": "awswaf:clientip:geo:country:" + country}],
    }


MANAGED = {
    "ruleGroupId": "AWS#AWSManagedRulesCommonRuleSet",
    "terminatingRule": None,
    "nonTerminatingMatchingRules": [
        {
            "ruleId": "NoUserAgent_HEADER",
            "action": "COUNT",
            "overriddenAction": "BLOCK",
            "ruleMatchDetails": [],
        }
    ],
    "excludedRules": None,
}
EXCLUDING = {
    "ruleGroupId": "grp-1",
    "terminatingRule": None,
    "nonTerminatingMatchingRules": [],
    "excludedRules": [{"exclusionType": "EXCLUDED_AS_COUNT", "ruleId": "r1"}],
}
MARCH_10, MARCH_20 = (
    dt.datetime(2021, 3, 10, 10, 3, tzinfo=dt.UTC),
    dt.datetime(2021, 3, 20, 23, 59, tzinfo=dt.UTC),
)
RECORDS = [
    waf(
        MARCH_10,
        "BLOCK",
        "rate-1",
        "RATE_BASED",
        "53.21.198.66",
        "IE",
        "/login",
        {"Host": "a.example.com", "Referer": "https://www.amazon.com/x"},
    ),
    waf(
        MARCH_10 + dt.timedelta(minutes=1),
        "BLOCK",
        "rate-1",
        "RATE_BASED",
        "53.21.198.66",
        "IE",
        "/login",
        {"referer": "https://smile.AMAZON.com/"},
    ),
    waf(
        MARCH_20,
        "ALLOW",
        "Default_Action",
        "REGULAR",
        "198.51.100.1",
        "US",
        "/",
        {"Referer": "https://example.com/amazon"},
        [MANAGED],
        ["custom-count"],
    ),
    waf(
        MARCH_20 + dt.timedelta(minutes=7),
        "BLOCK",
        "e9dd190d-7a43-4c06-bcea-409613d9506e",
        "REGULAR",
        "53.21.198.66",
        "IE",
        "/admin",
        {"Host": "a.example.com"},
    ),
    waf(
        dt.datetime(2021, 4, 2, tzinfo=dt.UTC),
        "BLOCK",
        "rate-1",
        "RATE_BASED",
        "203.0.113.9",
        "IE",
        "/login",
        {},
    ),
    waf(
        NOW - dt.timedelta(hours=1),
        "ALLOW",
        "Default_Action",
        "REGULAR",
        "192.0.2.50",
        "DE",
        "/a",
        {"X-Forwarded-For": "10.1.1.1"},
        [EXCLUDING],
        ["custom-count"],
    ),
    waf(
        NOW - dt.timedelta(hours=2),
        "ALLOW",
        "Default_Action",
        "REGULAR",
        "192.0.2.50",
        "DE",
        "/b",
        {"X-Forwarded-For": "10.1.1.1"},
        [EXCLUDING],
        ["custom-count"],
    ),
    waf(
        NOW - dt.timedelta(days=3),
        "COUNT",
        "Default_Action",
        "REGULAR",
        "192.0.2.51",
        "DE",
        "/c",
        {"X-Forwarded-For": "10.2.2.2"},
    ),
    waf(
        NOW - dt.timedelta(days=12),
        "ALLOW",
        "Default_Action",
        "REGULAR",
        "192.0.2.52",
        "FR",
        "/d",
        {"X-Forwarded-For": "10.9.9.9"},
        [EXCLUDING],
    ),
]


def when(r: dict[str, Any]) -> dt.datetime:
    return dt.datetime.fromtimestamp(r["timestamp"] // 1000, dt.UTC)


def day(r: dict[str, Any]) -> str:
    return when(r).strftime("%Y/%m/%d")


def march(r: dict[str, Any]) -> bool:
    return "2021/03/01" <= day(r) < "2021/03/31"


def within(r: dict[str, Any], days: int) -> bool:
    # from_unixtime(timestamp/1000) > now() - interval: whole seconds
    return when(r) > NOW - dt.timedelta(days=days)


def req(r: dict[str, Any], key: str) -> Any:
    return r["httpRequest"][key]


@pytest.fixture
def waf_table(athena: Athena) -> Athena:
    for rec in RECORDS:
        folder = f"{OURS}us-east-1/webACL/{day(rec)}/{when(rec):%H}/{when(rec):%M}/"
        athena.put(
            f"{folder}123456789012_waflogs_us-east-1_test_{rec['timestamp']}.log.gz",
            json.dumps(rec) + "\n",
            gzipped=True,
        )
    ddl = relocate(
        CREATE_PROJECTED,
        ("s3://bucket/AWSLogs/accountID/WAFLogs/region/webACL/", f"{OURS}us-east-1/webACL/"),
        ("s3://DOC-EXAMPLE-BUCKET/AWSLogs/accountID/WAFLogs/", OURS),
    )
    athena.run(ddl)
    return athena


def by_count_desc(got: list[tuple[Any, ...]], expected: list[tuple[Any, ...]], at: int = 0) -> None:
    """ORDER BY a count DESC: the counts must come out in that order; rows of equal count
    may come in any order."""
    assert [row[at] for row in got] == sorted((row[at] for row in expected), reverse=True)
    assert unordered(got) == unordered(expected)


def lowered(value: Any) -> Any:
    if isinstance(value, dict):
        return {k.lower(): lowered(v) for k, v in value.items()}
    if isinstance(value, list):
        return [lowered(v) for v in value]
    if isinstance(value, tuple):
        return tuple(lowered(v) for v in value)
    return value


def test_unpartitioned_table(athena: Athena) -> None:
    for rec in RECORDS:
        athena.put(f"s3://waf-sample/prefix/{rec['timestamp']}.log", json.dumps(rec) + "\n")
    athena.run(
        relocate(CREATE_TABLE, ("s3://DOC-EXAMPLE-BUCKET/prefix/", "s3://waf-sample/prefix/"))
    )
    # not a query of the page (its queries use the projected table's partitions)
    got = athena.run(
        "SELECT timestamp, action, httprequest.clientip, cardinality(httprequest.headers) FROM waf_logs"
    )
    expected = [
        (r["timestamp"], r["action"], req(r, "clientIp"), len(req(r, "headers"))) for r in RECORDS
    ]
    assert unordered(got) == unordered(expected)


def test_referers(waf_table: Athena) -> None:
    n = sum(
        1
        for r in RECORDS
        if march(r)
        for h in req(r, "headers")
        if h["name"].lower() == "referer" and "amazon" in h["value"]
    )
    assert n == 2  # LIKE is case-sensitive: 'AMAZON' does not count
    assert waf_table.run(Q_REFERERS) == [(n,)]


def test_excluded_rules(waf_table: Athena) -> None:
    groups: Counter[tuple[Any, ...]] = Counter()
    for r in RECORDS:
        for g in r["ruleGroupList"]:
            if g["excludedRules"] is not None and within(r, 10):
                groups[(req(r, "clientIp"), json.dumps(g["excludedRules"]), g["ruleGroupId"])] += 1
    expected = [(n, ip, json.loads(ex), gid) for (ip, ex, gid), n in groups.items()]
    assert [row[0] for row in expected] == [2]
    got = [(n, ip, json.loads(ex), gid) for n, ip, ex, gid in waf_table.run(Q_EXCLUDED_RULES)]
    by_count_desc(got, expected)


def test_counted_managed_rules(waf_table: Athena) -> None:
    groups: Counter[tuple[Any, ...]] = Counter()
    for r in RECORDS:
        for g in r["ruleGroupList"]:
            if r["action"] != "BLOCK" and g["nonTerminatingMatchingRules"]:
                groups[
                    (
                        json.dumps(g["nonTerminatingMatchingRules"]),
                        r["httpSourceId"],
                        req(r, "clientIp"),
                        g["ruleGroupId"],
                    )
                ] += 1
    expected = [
        (n, src, ip, gid, lowered(json.loads(rules))) for (rules, src, ip, gid), n in groups.items()
    ]
    assert len(expected) == 1
    by_count_desc(lowered(waf_table.run(Q_COUNTED_MANAGED)), expected)


def test_counted_custom_rules(waf_table: Athena) -> None:
    groups: Counter[tuple[Any, ...]] = Counter()
    for r in RECORDS:
        for t in r["nonTerminatingMatchingRules"]:
            if r["action"] != "BLOCK":
                groups[(r["httpSourceId"], req(r, "clientIp"), t["ruleId"], t["action"])] += 1
    expected = [(n, *key) for key, n in groups.items()]
    assert sorted(row[0] for row in expected) == [1, 2]
    by_count_desc(waf_table.run(Q_COUNTED_CUSTOM), expected)


def iso(r: dict[str, Any]) -> str:
    # to_iso8601 of from_unixtime's timestamp(3) with time zone, UTC session
    return when(r).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def http_request(r: dict[str, Any]) -> dict[str, Any]:
    return lowered(r["httpRequest"])


def test_iso_time(waf_table: Athena) -> None:
    expected = [(iso(r), r["httpSourceName"], r["httpSourceId"], http_request(r)) for r in RECORDS]
    assert unordered(lowered(waf_table.run(Q_ISO_TIME))) == unordered(expected)


def test_last_day(waf_table: Athena) -> None:
    expected = [
        (iso(r), r["httpSourceName"], r["httpSourceId"], http_request(r))
        for r in RECORDS
        if within(r, 1)
    ]
    assert len(expected) == 2
    assert unordered(lowered(waf_table.run(Q_LAST_DAY))) == unordered(expected)


def test_ip_in_range(waf_table: Athena) -> None:
    picked = [r for r in RECORDS if req(r, "clientIp") == "53.21.198.66" and march(r)]
    assert len(picked) == 3
    rows = waf_table.session.sql(Q_IP_RANGE).to_pylist()
    # every scalar column, the request struct and the partitions, per record
    got = [
        (
            row["timestamp"],
            row["action"],
            row["terminatingruleid"],
            lowered(row["httprequest"]),
            row["region"],
            row["date"],
        )
        for row in rows
    ]
    expected = [
        (r["timestamp"], r["action"], r["terminatingRuleId"], http_request(r), "us-east-1", day(r))
        for r in picked
    ]
    assert unordered(got) == unordered(expected)


def test_five_minutes(waf_table: Athena) -> None:
    counts: Counter[tuple[str, str]] = Counter()
    for r in RECORDS:
        if march(r):
            t = when(r)
            start = t - dt.timedelta(minutes=t.minute % 5, seconds=t.second)
            counts[(start.strftime("%Y-%m-%d %H:%M"), req(r, "clientIp"))] += 1
    expected = [(ts, ip, n) for (ts, ip), n in counts.items()]
    assert ("2021-03-10 10:00", "53.21.198.66", 2) in expected
    assert unordered(waf_table.run(Q_FIVE_MINUTES)) == unordered(expected)


def test_forwarded_for(waf_table: Athena) -> None:
    counts: Counter[str] = Counter(
        h["value"]
        for r in RECORDS
        if within(r, 10)
        for h in req(r, "headers")
        if h["name"] == "X-Forwarded-For"
    )
    expected = [(ip, n) for ip, n in counts.items()]
    assert sorted(n for _, n in expected) == [1, 2]
    by_count_desc(waf_table.run(Q_FORWARDED_FOR), expected, at=1)


def test_rate_based_top(waf_table: Athena) -> None:
    counts: Counter[str] = Counter(
        req(r, "clientIp")
        for r in RECORDS
        if r["terminatingRuleType"] == "RATE_BASED" and r["action"] == "BLOCK" and march(r)
    )
    expected = [(n, ip) for ip, n in counts.items()]
    assert expected == [(2, "53.21.198.66")]
    by_count_desc(waf_table.run(Q_RATE_BASED_TOP), expected)


def test_country_blocked(waf_table: Athena) -> None:
    counts: Counter[str] = Counter(
        req(r, "country")
        for r in RECORDS
        if r["terminatingRuleType"] == "RATE_BASED" and req(r, "country") == "IE"
    )
    expected = [(n, c) for c, n in counts.items()]
    assert expected == [(3, "IE")]
    assert waf_table.run(Q_COUNTRY_BLOCKED) == expected


def test_blocked_groups(waf_table: Athena) -> None:
    counts: Counter[tuple[str, ...]] = Counter(
        (r["webaclId"], r["terminatingRuleId"], req(r, "clientIp"), req(r, "uri"))
        for r in RECORDS
        if r["action"] == "BLOCK"
    )
    expected = [(n, *key) for key, n in counts.items()]
    assert sorted(row[0] for row in expected) == [1, 1, 2]
    by_count_desc(waf_table.run(Q_BLOCKED_GROUPS), expected)


def test_rule_matched(waf_table: Athena) -> None:
    counts: Counter[tuple[str, ...]] = Counter(
        (r["webaclId"], r["action"], req(r, "clientIp"), req(r, "uri"))
        for r in RECORDS
        if r["terminatingRuleId"] == "e9dd190d-7a43-4c06-bcea-409613d9506e"
    )
    expected = [(n, *key) for key, n in counts.items()]
    assert len(expected) == 1
    assert waf_table.run(Q_RULE_MATCHED) == expected


def test_top_blocked(waf_table: Athena) -> None:
    counts: Counter[tuple[str, str]] = Counter(
        (req(r, "clientIp"), req(r, "country"))
        for r in RECORDS
        if r["action"] == "BLOCK" and march(r)
    )
    expected = [(ip, n, c) for (ip, c), n in counts.items()]
    assert expected == [("53.21.198.66", 3, "IE")]
    by_count_desc(waf_table.run(Q_TOP_BLOCKED), expected, at=1)
