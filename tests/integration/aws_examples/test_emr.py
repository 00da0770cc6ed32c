"""Amazon EMR logs: the Athena User Guide's two tables over an EMR cluster's log folder
(one plain, one partitioned by log type with ALTER TABLE ADD PARTITION) and every example
query, over sample EMR log files laid out as EMR archives them, checked against the same
lines read by plain Python."""

from __future__ import annotations

import re

import pytest

from integration.aws_examples.conftest import Athena, unordered

URL = "https://docs.aws.amazon.com/athena/latest/ug/emr-logs.html"

# The page's LOCATION is a valid bucket name, so the sample data is written there and the
# statements below run exactly as published, LOCATION included.
CREATE_TABLE = """CREATE EXTERNAL TABLE `myemrlogs`(
  `data` string COMMENT 'from deserializer')
ROW FORMAT DELIMITED  
FIELDS TERMINATED BY '|'
LINES TERMINATED BY '\\n'
STORED AS INPUTFORMAT 
  'org.apache.hadoop.mapred.TextInputFormat' 
OUTPUTFORMAT 
  'org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat'
LOCATION
  's3://aws-logs-123456789012-us-west-2/elasticmapreduce/j-2ABCDE34F5GH6'"""

Q_STEP = """SELECT data,
        "$PATH"
FROM "default"."myemrlogs"
WHERE regexp_like("$PATH",'s-86URH188Z6B1')
        AND regexp_like(data, 'ERROR|WARN|INFO|EXCEPTION|FATAL|DEBUG') limit 100;"""

Q_INSTANCE = """SELECT "data",
        "$PATH" AS filepath
FROM "default"."myemrlogs"
WHERE regexp_like("$PATH",'i-00b3c0a839ece0a9c')
        AND regexp_like("$PATH",'state')
        AND regexp_like(data, 'ERROR|WARN|INFO|EXCEPTION|FATAL|DEBUG') limit 100;"""

Q_PRESTO = """SELECT "data",
        "$PATH" AS filepath
FROM "default"."myemrlogs"
WHERE regexp_like("$PATH",'presto')
        AND regexp_like(data, 'ERROR|WARN|INFO|EXCEPTION|FATAL|DEBUG') limit 100;"""

Q_NAMENODE = """SELECT "data",
        "$PATH" AS filepath
FROM "default"."myemrlogs"
WHERE regexp_like("$PATH",'namenode')
        AND regexp_like(data, 'ERROR|WARN|INFO|EXCEPTION|FATAL|DEBUG') limit 100;"""

Q_BY_HOUR = """SELECT distinct("$PATH") AS filepath
FROM "default"."myemrlogs"
WHERE regexp_like("$PATH",'2019-07-23-10')
        AND regexp_like(data, 'ERROR|WARN|INFO|EXCEPTION|FATAL|DEBUG') limit 100;"""

CREATE_PARTITIONED = """CREATE EXTERNAL TABLE `mypartitionedemrlogs`(
  `data` string COMMENT 'from deserializer')
 partitioned by (logtype string)
ROW FORMAT DELIMITED  
FIELDS TERMINATED BY '|'
LINES TERMINATED BY '\\n'
STORED AS INPUTFORMAT 
  'org.apache.hadoop.mapred.TextInputFormat' 
OUTPUTFORMAT 
 'org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat'
LOCATION 's3://aws-logs-123456789012-us-west-2/elasticmapreduce/j-2ABCDE34F5GH6'"""

ADD_PARTITIONS = [
    f"""ALTER TABLE mypartitionedemrlogs ADD
     PARTITION (logtype='{kind}')
     LOCATION 's3://aws-logs-123456789012-us-west-2/elasticmapreduce/j-2ABCDE34F5GH6/{kind}/'"""
    for kind in ("containers", "hadoop-mapreduce", "hadoop-state-pusher", "node", "steps")
]  # the page's five statements, which differ only in the log type

SHOW = """SHOW PARTITIONS mypartitionedemrlogs;"""

Q_CONTAINERS = """SELECT data,
        "$PATH"
FROM "default"."mypartitionedemrlogs"
WHERE logtype='containers'
        AND regexp_like("$PATH",'application_1561661818238_0002')
        AND regexp_like(data, 'ERROR|WARN') limit 100;"""

Q_MAPREDUCE = """SELECT data,
        "$PATH"
FROM "default"."mypartitionedemrlogs"
WHERE logtype='hadoop-mapreduce'
        AND regexp_like(data,'job_1561661818238_0004|Failed Reduces') limit 100;"""

Q_HIVE = """SELECT data,
        "$PATH"
FROM "default"."mypartitionedemrlogs"
WHERE logtype='node'
        AND regexp_like("$PATH",'hive')
        AND regexp_like(data,'056e0609-33e1-4611-956c-7a31b42d2663') limit 100;"""

Q_RESOURCEMANAGER = """SELECT data,
        "$PATH"
FROM "default"."mypartitionedemrlogs"
WHERE logtype='node'
        AND regexp_like(data,'resourcemanager')
        AND regexp_like(data,'1567660019320_0001_01_000001') limit 100"""

ROOT = "s3://aws-logs-123456789012-us-west-2/elasticmapreduce/j-2ABCDE34F5GH6/"
NODE = "node/i-00b3c0a839ece0a9c/"
# EMR's archive layout: steps/<step id>/, node/<instance id>/daemons|applications/...,
# containers/<application>/<container>/, hadoop-mapreduce/history/..., each file gzipped.
# Log4j lines; some carry a '|', where the '|'-delimited table cuts the line.
FILES = {
    "steps/s-86URH188Z6B1/controller.gz": [
        "2019-07-23T10:01:02.345Z INFO Step created jobs: job_1561661818238_0004",
        "2019-07-23T10:01:09.000Z WARN Step failed with exitCode 1 | see stderr",
        "plain output line without a level",
    ],
    "steps/s-86URH188Z6B1/stderr.gz": [
        "Exception in thread main java.lang.RuntimeException: boom",
        "19/07/23 10:01:08 ERROR streaming.StreamJob: Job not successful!",
    ],
    "steps/s-3XYZ0000000OTHER/stderr.gz": ["19/07/23 10:05:00 ERROR other step"],
    NODE + "daemons/instance-state/instance-state.log-2019-07-23-10-45.gz": [
        "# how many processes are running",
        "INFO instance-state: 123 processes",
        "ps auxwww --sort -rss | head -n 20",
    ],
    NODE + "applications/presto/server.log.gz": [
        "2019-07-23T10:15:00.000Z\tINFO\tmain\tio.prestosql.server.PrestoServer\t======== SERVER STARTED ========",
        "2019-07-23T10:16:00.000Z\tDEBUG\tquery-1\tio.prestosql.execution\tquery queued",
    ],
    NODE + "applications/hadoop-hdfs/hadoop-hdfs-namenode-ip-10-0-0-1.log.gz": [
        "2019-07-23 10:00:00,001 INFO org.apache.hadoop.hdfs.server.namenode.NameNode: STARTUP_MSG",
        "2019-07-23 10:00:00,500 FATAL namenode.NameNode: Failed to start namenode.",
        "STARTUP_MSG:   host = ip-10-0-0-1",
    ],
    NODE + "applications/hive/user/hive/hive.log.gz": [
        "2019-07-23T10:20:00,000 INFO  [056e0609-33e1-4611-956c-7a31b42d2663 main] ql.Driver: Compiling command",
        "2019-07-23T10:20:01,000 INFO  [aaaa0000-0000-0000-0000-000000000000 main] ql.Driver: other",
    ],
    NODE + "applications/hadoop-yarn/yarn-yarn-resourcemanager-ip-10-0-0-1.log.gz": [
        "2019-09-05 06:00:00,000 INFO resourcemanager.RMAppManager: container_1567660019320_0001_01_000001 launched",
        "2019-09-05 06:00:01,000 INFO resourcemanager.RMAppManager: container_1567660019320_0002_01_000001 launched",
    ],
    "containers/application_1561661818238_0002/container_1561661818238_0002_01_000001/stderr.gz": [
        "19/07/23 10:02:00 WARN util.NativeCodeLoader: Unable to load native-hadoop library",
        "19/07/23 10:02:01 ERROR executor.Executor: Exception in task 0.0 | stage 1.0",
        "19/07/23 10:02:02 INFO executor.Executor: Finished task",
    ],
    "containers/application_1561661818238_0003/container_1561661818238_0003_01_000001/stderr.gz": [
        "19/07/23 10:03:00 ERROR another application"
    ],
    "hadoop-mapreduce/history/2019/07/23/000000/job_1561661818238_0004-1563876062000-hadoop.jhist.gz": [
        '{"type":"JOB_FINISHED","event":{"jobid":"job_1561661818238_0004"}}',
        "Failed Reduces: 1",
        "Succeeded Maps: 4",
    ],
    "hadoop-state-pusher/hadoop-state-pusher.log.2019-07-23-10.gz": [
        "2019-07-23 10:00:00 INFO pusher: pushed state",
    ],
}

LEVELS = re.compile("ERROR|WARN|INFO|EXCEPTION|FATAL|DEBUG")


def rows(folder: str = "") -> list[tuple[str, str, str]]:
    """(data, $path, log type) of every line: data is the line up to its first '|', the
    table's only field of a '|'-delimited row."""
    return [
        (line.split("|")[0], ROOT + name, name.split("/")[0])
        for name, lines in FILES.items()
        if name.startswith(folder)
        for line in lines
    ]


@pytest.fixture
def emr(athena: Athena) -> Athena:
    for name, lines in FILES.items():
        athena.put(ROOT + name, "\n".join(lines) + "\n", gzipped=True)
    athena.run(CREATE_TABLE)
    athena.run(CREATE_PARTITIONED)
    for ddl in ADD_PARTITIONS:
        athena.run(ddl)
    return athena


def test_every_line_read(emr: Athena) -> None:
    # not a query of the page: the plain table's rows, before the $PATH queries
    expected = [(data,) for data, _, _ in rows()]
    assert unordered(emr.run("SELECT data FROM myemrlogs")) == unordered(expected)


def test_show_partitions(emr: Athena) -> None:
    expected = [
        (f"logtype={k}",)
        for k in ("containers", "hadoop-mapreduce", "hadoop-state-pusher", "node", "steps")
    ]
    assert unordered(emr.run(SHOW)) == expected


def _plain(pred_path: list[str], pattern: re.Pattern[str] = LEVELS) -> list[tuple[str, str]]:
    return [
        (data, path)
        for data, path, _ in rows()
        if all(re.search(p, path) for p in pred_path) and pattern.search(data)
    ]


PATH_QUERIES = {
    "step": (Q_STEP, lambda: _plain(["s-86URH188Z6B1"]), 3),
    "instance": (Q_INSTANCE, lambda: _plain(["i-00b3c0a839ece0a9c", "state"]), 1),
    "presto": (Q_PRESTO, lambda: _plain(["presto"]), 2),
    "namenode": (Q_NAMENODE, lambda: _plain(["namenode"]), 2),
    "by_hour": (
        Q_BY_HOUR,
        lambda: sorted({(p,) for _, p in _plain(["2019-07-23-10"])}),
        2,
    ),
    "containers": (
        Q_CONTAINERS,
        lambda: [
            (d, p)
            for d, p, k in rows()
            if k == "containers"
            and "application_1561661818238_0002" in p
            and re.search("ERROR|WARN", d)
        ],
        2,
    ),
    "mapreduce": (
        Q_MAPREDUCE,
        lambda: [
            (d, p)
            for d, p, k in rows()
            if k == "hadoop-mapreduce" and re.search("job_1561661818238_0004|Failed Reduces", d)
        ],
        2,
    ),
    "hive": (
        Q_HIVE,
        lambda: [
            (d, p)
            for d, p, k in rows()
            if k == "node" and "hive" in p and "056e0609-33e1-4611-956c-7a31b42d2663" in d
        ],
        1,
    ),
    "resourcemanager": (
        Q_RESOURCEMANAGER,
        lambda: [
            (d, p)
            for d, p, k in rows()
            if k == "node" and "resourcemanager" in d and "1567660019320_0001_01_000001" in d
        ],
        1,
    ),
}


@pytest.mark.parametrize("name", list(PATH_QUERIES))
def test_path_queries(emr: Athena, name: str) -> None:
    query, expect, count = PATH_QUERIES[name]
    expected = expect()
    assert len(expected) == count
    assert unordered(emr.run(query)) == unordered(expected)
