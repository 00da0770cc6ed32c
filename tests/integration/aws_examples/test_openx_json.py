"""OpenX JSON SerDe: the Athena User Guide's advertising-data table and nested-JSON table
with its UNNEST query, over sample JSON records (one per line), checked against the same
records read by json."""

from __future__ import annotations

import json
from typing import Any

from integration.aws_examples.conftest import Athena, relocate, unordered

URL = "https://docs.aws.amazon.com/athena/latest/ug/openx-json-serde.html"

# Verbatim from URL ("Example: advertising data"); only LOCATION's bucket is replaced.
CREATE_IMPRESSIONS = """CREATE EXTERNAL TABLE impressions (
    requestbegintime string,
    adid string,
    impressionId string,
    referrer string,
    useragent string,
    usercookie string,
    ip string,
    number string,
    processid string,
    browsercokie string,
    requestendtime string,
    timers struct<
       modellookup:string,
       requesttime:string>,
    threadid string,
    hostname string,
    sessionid string
)   PARTITIONED BY (dt string)
ROW FORMAT SERDE 'org.openx.data.jsonserde.JsonSerDe'
LOCATION 's3://amzn-s3-demo-bucket.elasticmapreduce/samples/hive-ads/tables/impressions';"""

# Verbatim from URL ("Example: deserializing nested JSON").
CREATE_COMPLEX = """CREATE external TABLE complex_json (
   docid string,
   `user` struct<
               id:INT,
               username:string,
               name:string,
               shippingaddress:struct<
                                      address1:string,
                                      address2:string,
                                      city:string,
                                      state:string
                                      >,
               orders:array<
                            struct<
                                 itemid:INT,
                                  orderdate:string
                                  >
                              >
               >
   )
ROW FORMAT SERDE 'org.openx.data.jsonserde.JsonSerDe'
LOCATION 's3://amzn-s3-demo-bucket/myjsondata/';"""

Q_ORDERS = """SELECT
 user.name as Name,
 user.shippingaddress.address1 as Address,
 user.shippingaddress.city as City,
 o.itemid as Item_ID, o.orderdate as Order_date
FROM complex_json, UNNEST(user.orders) as temp_table (o)"""

# The page's record (camel-case keys, a null, an array of objects), then one with no
# orders and one with an address but fewer fields.
DOCS: list[dict[str, Any]] = [
    {
        "DocId": "AWS",
        "User": {
            "Id": 1234,
            "Username": "carlos_salazar",
            "Name": "Carlos",
            "ShippingAddress": {
                "Address1": "123 Main St.",
                "Address2": None,
                "City": "Anytown",
                "State": "CA",
            },
            "Orders": [
                {"ItemId": 6789, "OrderDate": "11/11/2022"},
                {"ItemId": 4352, "OrderDate": "12/12/2022"},
            ],
        },
    },
    {
        "DocId": "AWS",
        "User": {
            "Id": 99,
            "Username": "ana",
            "Name": "Ana",
            "ShippingAddress": {"Address1": "1 Side Rd., Apt 2", "City": "Othertown"},
            "Orders": [],
        },
    },
    {
        "DocId": "Other",
        "User": {
            "Id": 7,
            "Username": "li",
            "Name": "Li",
            "ShippingAddress": {"Address1": "9 High St.", "City": "Anytown", "State": "WA"},
            "Orders": [{"ItemId": 1, "OrderDate": "01/02/2023"}],
        },
    },
]


def test_nested_json_orders(athena: Athena) -> None:
    athena.put("s3://openx-sample/myjsondata/docs.json", "\n".join(map(json.dumps, DOCS)) + "\n")
    athena.run(
        relocate(
            CREATE_COMPLEX,
            ("s3://amzn-s3-demo-bucket/myjsondata/", "s3://openx-sample/myjsondata/"),
        )
    )
    expected = [
        (
            d["User"]["Name"],
            d["User"]["ShippingAddress"]["Address1"],
            d["User"]["ShippingAddress"]["City"],
            o["ItemId"],
            o["OrderDate"],
        )
        for d in DOCS
        for o in d["User"]["Orders"]
    ]
    # the page's result table, for its record
    assert expected[:2] == [
        ("Carlos", "123 Main St.", "Anytown", 6789, "11/11/2022"),
        ("Carlos", "123 Main St.", "Anytown", 4352, "12/12/2022"),
    ]
    assert unordered(athena.run(Q_ORDERS)) == unordered(expected)


def test_nested_json_structs(athena: Athena) -> None:
    # not a query of the page: the struct fields that do not need UNNEST, and the array
    athena.put("s3://openx-sample/myjsondata/docs.json", "\n".join(map(json.dumps, DOCS)) + "\n")
    athena.run(
        relocate(
            CREATE_COMPLEX,
            ("s3://amzn-s3-demo-bucket/myjsondata/", "s3://openx-sample/myjsondata/"),
        )
    )
    got = athena.run(
        "SELECT docid, user.id, user.username, user.shippingaddress.address2, "
        "user.shippingaddress.state, cardinality(user.orders) FROM complex_json"
    )
    expected = [
        (
            d["DocId"],
            d["User"]["Id"],
            d["User"]["Username"],
            d["User"]["ShippingAddress"].get("Address2"),
            d["User"]["ShippingAddress"].get("State"),
            len(d["User"]["Orders"]),
        )
        for d in DOCS
    ]
    assert unordered(got) == unordered(expected)


# Records of the advertising sample data's shape (camel-case keys; the page's column
# browsercokie matches no key, so it reads NULL).
IMPRESSIONS = {
    "2009-04-12-13-00": [
        {
            "number": "977680",
            "referrer": "example.com",
            "processId": "1823",
            "adId": "TRktxshQXAHWo261jAHubijAoNlAqA",
            "browserCookie": "mvlrdwrmef",
            "userCookie": "CbwhCdwkBqCBw2ChyyrCp",
            "requestEndTime": "1424380073876",
            "impressionId": "1I5G20RmOuG2rt7fFGFgsaWk9Xpkfb",
            "userAgent": "Mozilla/4.0 (compatible; MSIE 7.0; Windows NT 6.0; SLCC1)",
            "timers": {"modelLookup": "0.3292", "requestTime": "0.6398"},
            "threadId": "99",
            "ip": "192.0.2.225",
            "modelId": "bxxiuxduad",
            "hostname": "ec2-0-51-75-39.amazon.com",
            "sessionId": "J9NOccA3dDMFlixCuSOtl9QBbjs6aS",
            "requestBeginTime": "1424380072876",
        }
    ],
    "2009-04-12-14-00": [
        {
            "number": "11",
            "referrer": "-",
            "processId": "1824",
            "adId": "ZZ",
            "userCookie": "c2",
            "requestEndTime": "1424380080000",
            "impressionId": "id2",
            "userAgent": "curl/7.68.0",
            "timers": {"modelLookup": "0.1"},
            "threadId": "100",
            "ip": "192.0.2.226",
            "hostname": "host2",
            "sessionId": "s2",
            "requestBeginTime": "1424380079000",
        }
    ],
}
IMPRESSION_COLUMNS = [
    "requestbegintime", "adid", "impressionId", "referrer", "useragent", "usercookie", "ip",
    "number", "processid", "browsercokie", "requestendtime", "timers", "threadid", "hostname",
    "sessionid",
]  # fmt: skip


def test_impressions(athena: Athena) -> None:
    prefix = "s3://openx-sample.elasticmapreduce/samples/hive-ads/tables/impressions"
    for dt, records in IMPRESSIONS.items():
        athena.put(
            f"{prefix}/dt={dt}/ec2-0-51-75-39.amazon.com-{dt}.log",
            "\n".join(map(json.dumps, records)) + "\n",
        )
    athena.run(
        relocate(
            CREATE_IMPRESSIONS,
            ("s3://amzn-s3-demo-bucket.elasticmapreduce/", "s3://openx-sample.elasticmapreduce/"),
        )
    )
    athena.run("MSCK REPAIR TABLE impressions")  # the partitions are Hive-style folders
    # not a query of the page (it has none): each record, keys matched case-insensitively
    got = athena.session.sql("SELECT * FROM impressions").to_pylist()
    expected = []
    for dt, records in IMPRESSIONS.items():
        for rec in records:
            lower = {k.lower(): v for k, v in rec.items()}
            row: dict[str, Any] = {c.lower(): lower.get(c.lower()) for c in IMPRESSION_COLUMNS}
            timers = {k.lower(): v for k, v in rec["timers"].items()}
            row["timers"] = {
                "modellookup": timers.get("modellookup"),
                "requesttime": timers.get("requesttime"),
            }
            row["dt"] = dt
            expected.append(row)
    norm = [{k.lower(): v for k, v in row.items()} for row in got]
    assert sorted(norm, key=lambda r: r["dt"]) == expected
