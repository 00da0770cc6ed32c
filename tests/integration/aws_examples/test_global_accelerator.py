"""AWS Global Accelerator flow logs: the Athena User Guide's table, its ALTER TABLE ADD
PARTITION and both example queries, over sample flow log records in the documented
space-separated format with a header line, checked against the records split by Python."""

from __future__ import annotations

import pytest

from integration.aws_examples.conftest import Athena, relocate, unordered

URL = "https://docs.aws.amazon.com/athena/latest/ug/querying-global-accelerator-flow-logs.html"

# Verbatim from URL; LOCATION's bucket/prefix (and the partition's date and location
# placeholders, as the page says) are replaced at run time.
CREATE_TABLE = """CREATE EXTERNAL TABLE IF NOT EXISTS aga_flow_logs (
  version string,
  account string,
  acceleratorid string,
  clientip string,
  clientport int,
  gip string,
  gipport int,
  endpointip string,
  endpointport int,
  protocol string,
  ipaddresstype string,
  numpackets bigint,
  numbytes int,
  starttime int,
  endtime int,
  action string,
  logstatus string,
  agasourceip string,
  agasourceport int,
  endpointregion string,
  agaregion string,
  direction string
)
PARTITIONED BY (dt string)
ROW FORMAT DELIMITED
FIELDS TERMINATED BY ' '
LOCATION 's3://your_log_bucket/prefix/AWSLogs/account_id/globalaccelerator/region/'
TBLPROPERTIES ("skip.header.line.count"="1");"""

ADD_PARTITION = """ALTER TABLE aga_flow_logs
ADD PARTITION (dt='YYYY-MM-dd')
LOCATION 's3://your_log_bucket/prefix/AWSLogs/account_id/globalaccelerator/region_code/YYYY/MM/dd';"""

Q_LHR = """SELECT 
  clientip, 
  agaregion, 
  protocol, 
  action 
FROM 
  aga_flow_logs 
WHERE 
  agaregion LIKE 'LHR%' 
LIMIT 
  100;"""

Q_HTTPS = """SELECT 
  SUM(numpackets) AS packetcount, 
  endpointip 
FROM 
  aga_flow_logs 
WHERE 
  endpointport = 443 
GROUP BY 
  endpointip 
ORDER BY 
  packetcount DESC 
LIMIT 
  10;"""

HEADER = (
    "version account-id accelerator-id client-ip client-port gip gip-port endpoint-ip "
    "endpoint-port protocol ip-address-type numpackets numbytes start-time end-time action "
    "log-status globalaccelerator-source-ip globalaccelerator-source-port endpoint-region "
    "globalaccelerator-region direction"
)
ACC = "123e4567-e89b-12d3-a456-426655440000"


def record(
    client: str,
    endpoint: str,
    port: int,
    proto: str,
    packets: int,
    edge: str,
    action: str = "ACCEPT",
) -> str:
    return (
        f"1.0 123456789012 {ACC} {client} 42673 192.0.2.1 {port} {endpoint} {port} {proto} IPV4 "
        f"{packets} {packets * 120} 1570000000 1570000060 {action} OK 192.0.2.200 1025 us-west-2 "
        f"{edge} INGRESS"
    )


DAYS = {
    "2019-10-02": [
        record("198.51.100.1", "10.0.1.2", 443, "TCP", 10, "LHR50"),
        record("198.51.100.2", "10.0.1.3", 443, "TCP", 25, "SEA19"),
        record("198.51.100.3", "10.0.1.2", 80, "TCP", 7, "LHR61-C1", "REJECT"),
    ],
    "2019-10-03": [
        record("198.51.100.4", "10.0.1.2", 443, "UDP", 4, "FRA2"),
        # a NODATA record: no flow in the window, '-' in the address and number fields
        f"1.0 123456789012 {ACC} - - 192.0.2.1 - - - - - - - 1570086400 1570086460 - NODATA - - us-west-2 LHR50 -",
    ],
}
INT_FIELDS = {4, 6, 8, 11, 12, 13, 14, 18}


def parsed() -> list[list[object]]:
    out = []
    for lines in DAYS.values():
        for line in lines:
            values: list[object] = line.split(" ")
            assert len(values) == 22
            out.append(
                [
                    (int(str(v)) if v != "-" else None) if i in INT_FIELDS else v
                    for i, v in enumerate(values)
                ]
            )
    return out


@pytest.fixture
def aga(athena: Athena) -> Athena:
    doc = "s3://your_log_bucket/prefix/AWSLogs/account_id/globalaccelerator/"
    ours = "s3://aga-sample/prefix/AWSLogs/123456789012/globalaccelerator/"
    athena.run(relocate(CREATE_TABLE, (doc + "region/", ours + "us-west-2/")))
    for day, lines in DAYS.items():
        folder = f"{ours}us-west-2/{day.replace('-', '/')}/"
        athena.put(
            f"{folder}123456789012_globalaccelerator_{ACC}_{day.replace('-', '')}T0000Z_x.log.gz",
            HEADER + "\n" + "\n".join(lines) + "\n",
            gzipped=True,
        )
        ddl = relocate(ADD_PARTITION, (doc + "region_code/", ours + "us-west-2/"))
        athena.run(ddl.replace("YYYY-MM-dd", day).replace("YYYY/MM/dd", day.replace("-", "/")))
    return athena


def test_edge_location(aga: Athena) -> None:
    expected = [(r[3], r[20], r[9], r[15]) for r in parsed() if str(r[20]).startswith("LHR")]
    assert len(expected) == 3
    assert unordered(aga.run(Q_LHR)) == unordered(expected)


def test_https_endpoints(aga: Athena) -> None:
    sums: dict[object, int] = {}
    for r in parsed():
        if r[8] == 443:
            sums[r[7]] = sums.get(r[7], 0) + int(str(r[11]))
    expected = sorted(((n, ip) for ip, n in sums.items()), key=lambda p: -p[0])
    assert expected == [(25, "10.0.1.3"), (14, "10.0.1.2")]
    assert aga.run(Q_HTTPS) == expected
