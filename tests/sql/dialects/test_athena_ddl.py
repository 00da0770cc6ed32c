"""Parsing Athena DDL (statements as the Athena docs print them) and rendering it back."""

from __future__ import annotations

import pytest

from lakebox.catalog.model import Column
from lakebox.errors import InvalidRequestError, SemanticError, SqlSyntaxError, UnsupportedError
from lakebox.sql.dialects import athena_ddl as ddl

# CREATE EXTERNAL TABLE statements as the AWS Athena documentation prints them (bucket names
# and a few placeholders replaced with concrete values).
DOC_DDL: dict[str, str] = {
    "cloudtrail": """
CREATE EXTERNAL TABLE cloudtrail_logs (
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
            ec2RoleDelivery: STRING,
            webIdFederationData: MAP<STRING,STRING>>>,
    eventTime STRING,
    eventSource STRING,
    eventName STRING,
    awsRegion STRING,
    sourceIpAddress STRING,
    userAgent STRING,
    errorCode STRING,
    errorMessage STRING,
    requestParameters STRING,
    responseElements STRING,
    additionalEventData STRING,
    requestId STRING,
    eventId STRING,
    resources ARRAY<STRUCT<
        arn: STRING,
        accountId: STRING,
        type: STRING>>,
    eventType STRING,
    apiVersion STRING,
    readOnly STRING,
    recipientAccountId STRING,
    serviceEventDetails STRING,
    sharedEventID STRING,
    vpcEndpointId STRING,
    tlsDetails STRUCT<
        tlsVersion: STRING,
        cipherSuite: STRING,
        clientProvidedHostHeader: STRING>
  )
COMMENT 'CloudTrail table for amzn-s3-demo-bucket bucket'
PARTITIONED BY (region string, year string, month string, day string)
ROW FORMAT SERDE 'org.apache.hive.hcatalog.data.JsonSerDe'
STORED AS INPUTFORMAT 'com.amazon.emr.cloudtrail.CloudTrailInputFormat'
OUTPUTFORMAT 'org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat'
LOCATION 's3://amzn-s3-demo-bucket/AWSLogs/111122223333/CloudTrail/'
TBLPROPERTIES ('classification'='cloudtrail');
""",
    "cloudtrail_serde": """
CREATE EXTERNAL TABLE cloudtrail_logs_legacy (
eventversion STRING,
useridentity STRUCT<
               type:STRING,
               principalid:STRING,
               arn:STRING,
               accountid:STRING,
               invokedby:STRING,
               accesskeyid:STRING,
               userName:STRING>,
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
vpcendpointid STRING
)
ROW FORMAT SERDE 'com.amazon.emr.hive.serde.CloudTrailSerde'
STORED AS INPUTFORMAT 'com.amazon.emr.cloudtrail.CloudTrailInputFormat'
OUTPUTFORMAT 'org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat'
LOCATION 's3://amzn-s3-demo-bucket/AWSLogs/111122223333/';
""",
    "alb_projection": r"""
CREATE EXTERNAL TABLE IF NOT EXISTS alb_access_logs (
            type string,
            time string,
            elb string,
            client_ip string,
            client_port int,
            target_ip string,
            target_port int,
            request_processing_time double,
            target_processing_time double,
            response_processing_time double,
            elb_status_code int,
            target_status_code string,
            received_bytes bigint,
            sent_bytes bigint,
            request_verb string,
            request_url string,
            request_proto string,
            user_agent string,
            ssl_cipher string,
            ssl_protocol string,
            target_group_arn string,
            trace_id string,
            domain_name string,
            chosen_cert_arn string,
            matched_rule_priority string,
            request_creation_time string,
            actions_executed string,
            redirect_url string,
            lambda_error_reason string,
            target_port_list string,
            target_status_code_list string,
            classification string,
            classification_reason string,
            conn_trace_id string
            )
            PARTITIONED BY
            (
             day STRING
            )
            ROW FORMAT SERDE 'org.apache.hadoop.hive.serde2.RegexSerDe'
            WITH SERDEPROPERTIES (
            'serialization.format' = '1',
            'input.regex' =
        '([^ ]*) ([^ ]*) ([^ ]*) ([^ ]*):([0-9]*) ([^ ]*)[:-]([0-9]*) ([-.0-9]*) ([-.0-9]*) ([-.0-9]*) (|[-0-9]*) (-|[-0-9]*) ([-0-9]*) ([-0-9]*) \"([^ ]*) (.*) (- |[^ ]*)\" \"([^\"]*)\" ([A-Z0-9-_]+) ([A-Za-z0-9.-]*) ([^ ]*) \"([^\"]*)\" \"([^\"]*)\" \"([^\"]*)\" ([-.0-9]*) ([^ ]*) \"([^\"]*)\" \"([^\"]*)\" \"([^ ]*)\" \"([^\\s]+?)\" \"([^\\s]+)\" \"([^ ]*)\" \"([^ ]*)\" ?([^ ]*)?'
            )
            LOCATION 's3://amzn-s3-demo-bucket/AWSLogs/111122223333/elasticloadbalancing/us-east-1/'
            TBLPROPERTIES
            (
             "projection.enabled" = "true",
             "projection.day.type" = "date",
             "projection.day.range" = "2022/01/01,NOW",
             "projection.day.format" = "yyyy/MM/dd",
             "projection.day.interval" = "1",
             "projection.day.interval.unit" = "DAYS",
             "storage.location.template" = "s3://amzn-s3-demo-bucket/AWSLogs/111122223333/elasticloadbalancing/us-east-1/${day}"
            )
""",
    "elb_classic": r"""
CREATE EXTERNAL TABLE IF NOT EXISTS elb_logs (
 request_timestamp string,
 elb_name string,
 request_ip string,
 request_port int,
 backend_ip string,
 backend_port int,
 request_processing_time double,
 backend_processing_time double,
 client_response_time double,
 elb_response_code string,
 backend_response_code string,
 received_bytes bigint,
 sent_bytes bigint,
 request_verb string,
 url string,
 protocol string,
 user_agent string,
 ssl_cipher string,
 ssl_protocol string
)
PARTITIONED BY(year string, month string, day string)
ROW FORMAT SERDE 'org.apache.hadoop.hive.serde2.RegexSerDe'
WITH SERDEPROPERTIES (
 'serialization.format' = '1',
 'input.regex' = '([^ ]*) ([^ ]*) ([^ ]*):([0-9]*) ([^ ]*)[:-]([0-9]*) ([-.0-9]*) ([-.0-9]*) ([-.0-9]*) (|[-0-9]*) (-|[-0-9]*) ([-0-9]*) ([-0-9]*) \\\"([^ ]*) ([^ ]*) (- |[^ ]*)\\\" (\"[^\"]*\") ([A-Z0-9-]+) ([A-Za-z0-9.-]*)$' )
LOCATION 's3://amzn-s3-demo-bucket/AWSLogs/111122223333/elasticloadbalancing/';
""",
    "cloudfront": r"""
CREATE EXTERNAL TABLE IF NOT EXISTS cloudfront_standard_logs (
  `date` DATE,
  time STRING,
  x_edge_location STRING,
  sc_bytes BIGINT,
  c_ip STRING,
  cs_method STRING,
  cs_host STRING,
  cs_uri_stem STRING,
  sc_status INT,
  cs_referrer STRING,
  cs_user_agent STRING,
  cs_uri_query STRING,
  cs_cookie STRING,
  x_edge_result_type STRING,
  x_edge_request_id STRING,
  x_host_header STRING,
  cs_protocol STRING,
  cs_bytes BIGINT,
  time_taken FLOAT,
  x_forwarded_for STRING,
  ssl_protocol STRING,
  ssl_cipher STRING,
  x_edge_response_result_type STRING,
  cs_protocol_version STRING,
  fle_status STRING,
  fle_encrypted_fields INT,
  c_port INT,
  time_to_first_byte FLOAT,
  x_edge_detailed_result_type STRING,
  sc_content_type STRING,
  sc_content_len BIGINT,
  sc_range_start BIGINT,
  sc_range_end BIGINT
)
ROW FORMAT DELIMITED
FIELDS TERMINATED BY '\t'
LOCATION 's3://amzn-s3-demo-bucket/'
TBLPROPERTIES ( 'skip.header.line.count'='2' )
""",
    "vpc_flow_projection": """
CREATE EXTERNAL TABLE IF NOT EXISTS test_table_vpclogs (
  version int,
  account_id string,
  interface_id string,
  srcaddr string,
  dstaddr string,
  srcport int,
  dstport int,
  protocol bigint,
  packets bigint,
  bytes bigint,
  start bigint,
  `end` bigint,
  action string,
  log_status string,
  vpc_id string,
  subnet_id string,
  instance_id string,
  tcp_flags int,
  type string,
  pkt_srcaddr string,
  pkt_dstaddr string,
  az_id string,
  sublocation_type string,
  sublocation_id string,
  pkt_src_aws_service string,
  pkt_dst_aws_service string,
  flow_direction string,
  traffic_path int
)
PARTITIONED BY (accid string, region string, day string)
ROW FORMAT DELIMITED
FIELDS TERMINATED BY ' '
LOCATION 's3://amzn-s3-demo-bucket/vpcflowlogs/'
TBLPROPERTIES
(
"skip.header.line.count"="1",
"projection.enabled" = "true",
"projection.accid.type" = "enum",
"projection.accid.values" = "111122223333",
"projection.region.type" = "enum",
"projection.region.values" = "us-east-1,eu-west-1",
"projection.day.type" = "date",
"projection.day.range" = "2021/01/01,NOW",
"projection.day.format" = "yyyy/MM/dd",
"storage.location.template" = "s3://amzn-s3-demo-bucket/AWSLogs/${accid}/vpcflowlogs/${region}/${day}"
)
""",
    "opencsv": r"""
CREATE EXTERNAL TABLE myopencsvtable (
   col1 string,
   col2 string,
   col3 string,
   col4 string
)
ROW FORMAT SERDE 'org.apache.hadoop.hive.serde2.OpenCSVSerde'
WITH SERDEPROPERTIES (
   'separatorChar' = ',',
   'quoteChar' = '"',
   'escapeChar' = '\\'
   )
STORED AS TEXTFILE
LOCATION 's3://amzn-s3-demo-bucket/mycsv/';
""",
    "openx_json_mapping": """
CREATE EXTERNAL TABLE impressions (
    requestbegintime string,
    adid string,
    impressionid string,
    referrer string,
    useragent string,
    usercookie string,
    ip string,
    number string,
    processid string,
    browsercookie string,
    requestendtime string,
    timers struct
                <
                 modellookup:string,
                 requesttime:string
                >,
    threadid string,
    hostname string,
    sessionid string,
    ts string
)
PARTITIONED BY (dt string)
ROW FORMAT SERDE 'org.openx.data.jsonserde.JsonSerDe'
WITH SERDEPROPERTIES ( 'ignore.malformed.json' = 'true', 'mapping.ts' = 'timestamp',
  'case.insensitive' = 'false')
LOCATION 's3://amzn-s3-demo-bucket/impressions';
""",
    "parquet_partitioned": """
CREATE EXTERNAL TABLE flight_delays_pq (
    yr INT,
    quarter INT,
    month INT,
    dayofmonth INT,
    dayofweek INT,
    flightdate STRING,
    uniquecarrier STRING,
    airlineid INT,
    carrier STRING,
    flightnum STRING,
    origin STRING,
    dest STRING,
    depdelay INT,
    carrierdelay INT,
    weatherdelay INT
)
PARTITIONED BY (year STRING)
STORED AS PARQUET
LOCATION 's3://athena-examples-us-east-1/flight/parquet/'
tblproperties ("parquet.compression"="SNAPPY");
""",
    "orc": """
CREATE EXTERNAL TABLE flight_delays_orc (
    yr INT,
    quarter INT,
    month INT,
    dayofmonth INT,
    dayofweek INT,
    flightdate STRING,
    uniquecarrier STRING,
    airlineid INT,
    carrier STRING,
    flightnum STRING,
    origin STRING,
    dest STRING,
    depdelay INT,
    carrierdelay INT,
    weatherdelay INT
)
PARTITIONED BY (year String)
STORED AS ORC
LOCATION 's3://athena-examples-us-east-1/flight/orc/'
tblproperties ("orc.compress"="ZLIB");
""",
    "avro_schema_literal": """
CREATE EXTERNAL TABLE flights_avro_example (
   yr INT,
   flightdate STRING,
   uniquecarrier STRING,
   airlineid INT,
   carrier STRING,
   flightnum STRING,
   origin STRING,
   dest STRING,
   depdelay INT,
   carrierdelay INT,
   weatherdelay INT
)
PARTITIONED BY (year STRING)
ROW FORMAT
SERDE 'org.apache.hadoop.hive.serde2.avro.AvroSerDe'
WITH SERDEPROPERTIES ('avro.schema.literal'='
{
   "type" : "record",
   "name" : "flights_avro_subset",
   "namespace" : "default",
   "fields" : [ {
      "name" : "yr",
      "type" : [ "null", "int" ],
      "default" : null
   }, {
      "name" : "flightdate",
      "type" : [ "null", "string" ],
      "default" : null
   }, {
      "name" : "weatherdelay",
      "type" : [ "null", "int" ],
      "default" : null
   } ]
}
')
STORED AS AVRO
LOCATION 's3://athena-examples-us-east-1/flight/avro/';
""",
    "ion_path_extractors": """
CREATE EXTERNAL TABLE customer_orders (
  customer_id string,
  order_id string,
  item_name string
)
ROW FORMAT SERDE
 'com.amazon.ionhiveserde.IonHiveSerDe'
WITH SERDEPROPERTIES (
 'ion.customer_id.path_extractor' = '(customer id)',
 'ion.order_id.path_extractor' = '(order id)',
 'ion.item_name.path_extractor' = '(order item name)'
 )
STORED AS ION
LOCATION 's3://amzn-s3-demo-bucket/orders/'
""",
    "dynamodb_export_ion": """
CREATE EXTERNAL TABLE IF NOT EXISTS ddb_exported_table_ion (
  id decimal,
  amount decimal(10,2),
  name string,
  tags array<string>
)
ROW FORMAT SERDE 'com.amazon.ionhiveserde.IonHiveSerDe'
WITH SERDEPROPERTIES (
  'ion.id.path_extractor' = '(Item id)',
  'ion.amount.path_extractor' = '(Item amount)',
  'ion.name.path_extractor' = '(Item name)',
  'ion.tags.path_extractor' = '(Item tags)'
)
STORED AS ION
LOCATION 's3://amzn-s3-demo-bucket/AWSDynamoDB/01234567890123-abcdefgh/data/'
""",
    "delimited_all_clauses": r"""
CREATE EXTERNAL TABLE IF NOT EXISTS delimited_everything (
  id int COMMENT 'row id',
  tags array<string>,
  attrs map<string,int>,
  price decimal(12,4)
)
ROW FORMAT DELIMITED
  FIELDS TERMINATED BY ',' ESCAPED BY '\\'
  COLLECTION ITEMS TERMINATED BY '|'
  MAP KEYS TERMINATED BY ':'
  LINES TERMINATED BY '\n'
  NULL DEFINED AS 'NULL'
STORED AS TEXTFILE
LOCATION 's3://amzn-s3-demo-bucket/delimited/'
""",
    "nested_json": """
CREATE external TABLE complex_json (
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
               >,
   scores map<string, array<double>>
   )
ROW FORMAT SERDE 'org.openx.data.jsonserde.JsonSerDe'
LOCATION 's3://amzn-s3-demo-bucket/myjsondata/';
""",
    "hive_json_bucketed": r"""
CREATE EXTERNAL TABLE `salesdb.orders_json` (
  order_id bigint COMMENT 'the order\'s id',
  customer_id string,
  placed timestamp,
  flag boolean,
  small tinyint,
  mid smallint,
  ratio float,
  code char(3),
  label varchar(40),
  payload binary,
  day date
)
COMMENT 'bucketed orders'
PARTITIONED BY (dt string COMMENT 'day of the order')
CLUSTERED BY (customer_id) INTO 8 BUCKETS
STORED AS JSON
LOCATION 's3://amzn-s3-demo-bucket/orders_json/'
TBLPROPERTIES ('has_encrypted_data'='false')
""",
}


@pytest.mark.parametrize("name", sorted(DOC_DDL))
def test_doc_ddl_render_parses_back_to_the_same_table(name: str) -> None:
    stmt = ddl.parse_ddl(DOC_DDL[name])
    assert isinstance(stmt, ddl.CreateTable)
    table = stmt.table
    table.database = table.database or "default"
    assert table.columns and table.location
    again = ddl.parse_ddl(ddl.render_create_table(table))
    assert isinstance(again, ddl.CreateTable)
    for attr in ("create_time", "update_time"):
        setattr(again.table, attr, getattr(table, attr))
    assert again.table == table


@pytest.mark.parametrize(
    ("fmt", "serde"),
    [
        ("PARQUET", "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"),
        ("ORC", "org.apache.hadoop.hive.ql.io.orc.OrcSerde"),
        ("AVRO", "org.apache.hadoop.hive.serde2.avro.AvroSerDe"),
        ("TEXTFILE", "org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe"),
        ("JSON", "org.apache.hive.hcatalog.data.JsonSerDe"),
        ("ION", "com.amazon.ionhiveserde.IonHiveSerDe"),
        ("SEQUENCEFILE", "org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe"),
        ("RCFILE", "org.apache.hadoop.hive.serde2.columnar.LazyBinaryColumnarSerDe"),
    ],
)
def test_stored_as_sets_glue_formats_and_serde(fmt: str, serde: str) -> None:
    stmt = ddl.parse_ddl(
        f"create external table t (a int) stored as {fmt.lower()} location 's3://b/t/'"
    )
    assert isinstance(stmt, ddl.CreateTable)
    assert stmt.table.serde_library == serde
    assert (stmt.table.input_format, stmt.table.output_format, serde) == ddl.STORED_AS[fmt]


def test_stored_as_keeps_an_explicit_serde() -> None:
    stmt = ddl.parse_ddl(
        "CREATE EXTERNAL TABLE t (a int) ROW FORMAT SERDE "
        "'org.openx.data.jsonserde.JsonSerDe' STORED AS TEXTFILE"
    )
    assert isinstance(stmt, ddl.CreateTable)
    assert stmt.table.serde_library == "org.openx.data.jsonserde.JsonSerDe"
    assert stmt.table.input_format == ddl.TEXT_INPUT


def test_parquet_and_ion_format_class_names() -> None:
    assert ddl.STORED_AS["PARQUET"][:2] == (
        "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat",
        "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat",
    )
    assert ddl.STORED_AS["ION"] == (
        "com.amazon.ionhiveserde.formats.IonInputFormat",
        "com.amazon.ionhiveserde.formats.IonOutputFormat",
        "com.amazon.ionhiveserde.IonHiveSerDe",
    )


def test_row_format_delimited_becomes_lazy_simple_serde_parameters() -> None:
    stmt = ddl.parse_ddl(DOC_DDL["delimited_all_clauses"])
    assert isinstance(stmt, ddl.CreateTable)
    assert stmt.table.serde_library == ddl.LAZY_SIMPLE_SERDE
    assert stmt.table.serde_parameters == {
        "field.delim": ",",
        "escape.delim": "\\",
        "collection.delim": "|",
        "mapkey.delim": ":",
        "line.delim": "\n",
        "serialization.null.format": "NULL",
        "serialization.format": ",",
    }
    assert stmt.table.columns[0] == Column("id", "int", "row id")


def test_types_are_normalised_and_names_lower_cased() -> None:
    stmt = ddl.parse_ddl(DOC_DDL["cloudtrail"])
    assert isinstance(stmt, ddl.CreateTable)
    table = stmt.table
    assert table.name == "cloudtrail_logs" and table.database == ""
    ident = table.column("useridentity")
    assert ident is not None and ident.type.startswith("struct<type:string,principalid:string")
    assert table.column("resources") == Column(
        "resources", "array<struct<arn:string,accountid:string,type:string>>"
    )
    assert [k.name for k in table.partition_keys] == ["region", "year", "month", "day"]
    assert table.comment == "CloudTrail table for amzn-s3-demo-bucket bucket"
    assert table.parameters == {"classification": "cloudtrail"}


def test_bare_decimal_keeps_its_glue_spelling() -> None:
    stmt = ddl.parse_ddl(DOC_DDL["dynamodb_export_ion"])
    assert isinstance(stmt, ddl.CreateTable)
    assert [c.type for c in stmt.table.columns] == [
        "decimal",
        "decimal(10,2)",
        "string",
        "array<string>",
    ]
    assert stmt.if_not_exists


@pytest.mark.parametrize(
    ("name", "db", "table"),
    [
        ("`salesdb.orders`", "salesdb", "orders"),
        ("`salesdb`.`orders`", "salesdb", "orders"),
        ("salesdb.orders", "salesdb", "orders"),
        ("Orders", None, "orders"),
        ("awsdatacatalog.salesdb.orders", "salesdb", "orders"),
    ],
)
def test_table_names_in_every_quoting(name: str, db: str | None, table: str) -> None:
    stmt = ddl.parse_ddl(f"CREATE EXTERNAL TABLE {name} (a int) LOCATION 's3://b/x/'")
    assert isinstance(stmt, ddl.CreateTable)
    assert (stmt.table.database or None, stmt.table.name) == (db, table)
    drop = ddl.parse_ddl(f"DROP TABLE IF EXISTS {name}")
    assert drop == ddl.DropTable(ddl.TableRef(db, table), if_exists=True)


def test_regex_escapes_follow_hive_string_rules() -> None:
    stmt = ddl.parse_ddl(DOC_DDL["elb_classic"])
    assert isinstance(stmt, ddl.CreateTable)
    regex = stmt.table.serde_parameters["input.regex"]
    assert '\\"([^ ]*) ([^ ]*) (- |[^ ]*)\\" ("[^"]*")' in regex
    assert regex.endswith("$")


def test_double_backslash_keeps_a_regex_class() -> None:
    """Hive drops the backslash of an unknown escape (``\\s`` -> ``s``); the docs' ALB
    regex writes ``\\\\s`` so that Glue stores ``\\s``."""
    stmt = ddl.parse_ddl(DOC_DDL["alb_projection"])
    assert isinstance(stmt, ddl.CreateTable)
    assert '"([^\\s]+?)" "([^\\s]+)"' in stmt.table.serde_parameters["input.regex"]


def test_quote_string_round_trips_awkward_values() -> None:
    value = "a'b\\c\td\ne\x01f\"g"
    tokens = ddl.tokenize(ddl.quote_string(value))
    assert tokens[0].kind == "STRING" and tokens[0].text == value


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT 1",
        "with x as (select 1) select * from x",
        "VALUES 1",
        "INSERT INTO t SELECT 1",
        "UNLOAD (SELECT 1) TO 's3://b/x/' WITH (format='PARQUET')",
        "EXPLAIN SELECT 1",
        "-- comment\n/* block */ select 2",
    ],
)
def test_non_ddl_returns_none(sql: str) -> None:
    assert ddl.parse_ddl(sql) is None


def test_comments_and_case_are_ignored() -> None:
    stmt = ddl.parse_ddl(
        "-- make it\n/* multi\nline */ cReAtE schema If Not Exists "
        "Sales COMMENT 'the sales' LOCATION 's3://b/sales/' "
        "WITH DBPROPERTIES ('owner'='me', 'x'='y');"
    )
    assert stmt == ddl.CreateDatabase(
        "sales", True, "the sales", "s3://b/sales/", {"owner": "me", "x": "y"}
    )


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        ("DROP DATABASE IF EXISTS sales CASCADE", ddl.DropDatabase("sales", True, True)),
        ("drop schema sales restrict", ddl.DropDatabase("sales", False, False)),
        ("DROP VIEW IF EXISTS db.v", ddl.DropView(ddl.TableRef("db", "v"), True)),
        ("MSCK REPAIR TABLE `db.t`;", ddl.MsckRepair(ddl.TableRef("db", "t"))),
        ("SHOW DATABASES LIKE 'sa*|x'", ddl.ShowDatabases("sa*|x")),
        ("SHOW SCHEMAS", ddl.ShowDatabases(None)),
        ("SHOW TABLES IN sales 'ord*'", ddl.ShowTables("sales", "ord*")),
        ("SHOW TABLES", ddl.ShowTables(None, None)),
        ("SHOW VIEWS IN sales LIKE 'v*'", ddl.ShowViews("sales", "v*")),
        ("SHOW PARTITIONS sales.orders", ddl.ShowPartitions(ddl.TableRef("sales", "orders"))),
        ("SHOW CREATE TABLE orders", ddl.ShowCreateTable(ddl.TableRef(None, "orders"))),
        ("SHOW CREATE VIEW v", ddl.ShowCreateTable(ddl.TableRef(None, "v"), view=True)),
        ("SHOW COLUMNS IN orders IN sales", ddl.ShowColumns(ddl.TableRef("sales", "orders"))),
        ("SHOW COLUMNS FROM sales.orders", ddl.ShowColumns(ddl.TableRef("sales", "orders"))),
        (
            "SHOW TBLPROPERTIES orders('classification')",
            ddl.ShowTblProperties(ddl.TableRef(None, "orders"), "classification"),
        ),
        ("DESCRIBE orders", ddl.Describe(ddl.TableRef(None, "orders"))),
        (
            "DESCRIBE FORMATTED sales.orders price",
            ddl.Describe(ddl.TableRef("sales", "orders"), "FORMATTED", "price"),
        ),
        ("desc extended orders", ddl.Describe(ddl.TableRef(None, "orders"), "EXTENDED")),
        (
            "ALTER TABLE t SET TBLPROPERTIES ('a'='1', \"b\"=\"2\")",
            ddl.SetTableProperties(ddl.TableRef(None, "t"), {"a": "1", "b": "2"}),
        ),
        (
            "ALTER TABLE t SET LOCATION 's3://b/new/'",
            ddl.SetLocation(ddl.TableRef(None, "t"), "s3://b/new/"),
        ),
        (
            "ALTER TABLE t PARTITION (dt='2024-01-01') SET LOCATION 's3://b/p/'",
            ddl.SetLocation(
                ddl.TableRef(None, "t"), "s3://b/p/", ddl.PartitionSpec({"dt": "2024-01-01"})
            ),
        ),
    ],
)
def test_statement_shapes(sql: str, expected: ddl.DdlStatement) -> None:
    assert ddl.parse_ddl(sql) == expected


def test_add_several_partitions_in_one_statement() -> None:
    stmt = ddl.parse_ddl("""ALTER TABLE orders ADD IF NOT EXISTS
        PARTITION (year='2024', month=1) LOCATION 's3://b/o/2024/01/'
        PARTITION (YEAR = '2024', month = 2)""")
    assert stmt == ddl.AddPartitions(
        ddl.TableRef(None, "orders"),
        [
            ddl.PartitionSpec({"year": "2024", "month": "1"}, "s3://b/o/2024/01/"),
            ddl.PartitionSpec({"year": "2024", "month": "2"}),
        ],
        if_not_exists=True,
    )


def test_drop_several_partitions() -> None:
    stmt = ddl.parse_ddl("ALTER TABLE orders DROP IF EXISTS PARTITION (dt='a'), PARTITION (dt='b')")
    assert stmt == ddl.DropPartitions(
        ddl.TableRef(None, "orders"),
        [ddl.PartitionSpec({"dt": "a"}), ddl.PartitionSpec({"dt": "b"})],
        if_exists=True,
    )


def test_add_and_replace_columns_normalise_types() -> None:
    stmt = ddl.parse_ddl(
        "ALTER TABLE t ADD COLUMNS (Extra STRUCT<a:INT, b:ARRAY<STRING>> "
        "COMMENT 'more', n DECIMAL(10, 2))"
    )
    assert stmt == ddl.AddColumns(
        ddl.TableRef(None, "t"),
        [Column("extra", "struct<a:int,b:array<string>>", "more"), Column("n", "decimal(10,2)")],
    )
    stmt = ddl.parse_ddl("ALTER TABLE t REPLACE COLUMNS (a bigint)")
    assert stmt == ddl.ReplaceColumns(ddl.TableRef(None, "t"), [Column("a", "bigint")])


def test_create_view_keeps_the_select_text() -> None:
    stmt = ddl.parse_ddl("CREATE OR REPLACE VIEW sales.v AS\nSELECT a, b FROM t WHERE a > 1;")
    assert stmt == ddl.CreateView(
        ddl.TableRef("sales", "v"), "SELECT a, b FROM t WHERE a > 1", or_replace=True
    )


def test_bad_type_names_the_type() -> None:
    with pytest.raises(SemanticError, match="strang"):
        ddl.parse_ddl("CREATE EXTERNAL TABLE t (a strang) LOCATION 's3://b/t/'")
    with pytest.raises(SemanticError, match="strang"):
        ddl.parse_ddl("ALTER TABLE t ADD COLUMNS (a array<strang>)")


def test_plain_create_table_is_rejected_like_athena() -> None:
    with pytest.raises(InvalidRequestError, match="external"):
        ddl.parse_ddl("CREATE TABLE t (a int) STORED AS PARQUET LOCATION 's3://b/t/'")


@pytest.mark.parametrize(
    "sql",
    [
        "CREATE TABLE t WITH (format='PARQUET') AS SELECT 1 AS a",
        "CREATE TABLE t AS SELECT * FROM u",
    ],
)
def test_ctas_is_not_ddl_but_a_query_for_the_query_layer(sql: str) -> None:
    assert ddl.parse_ddl(sql) is None


def test_rename_is_not_supported_by_athena() -> None:
    with pytest.raises(UnsupportedError, match="RENAME TO is not supported by Athena"):
        ddl.parse_ddl("ALTER TABLE t RENAME TO u")


@pytest.mark.parametrize(
    ("sql", "line", "col"),
    [
        ("SHOW TABLEZ", 1, 6),
        ("ALTER TABLE t ADD PARTITION (a='1'\n  LOCATION 's3://b/'", 2, 3),
        ("DROP TABLE", 1, 11),
        ("CREATE DATABASE db\nCOMMENT 'x' BOGUS", 2, 13),
        ("SHOW PARTITIONS t 'unterminated", 1, 19),
    ],
)
def test_syntax_errors_carry_line_and_column(sql: str, line: int, col: int) -> None:
    with pytest.raises(SqlSyntaxError) as info:
        ddl.parse_ddl(sql)
    assert (info.value.line, info.value.column) == (line, col)


def test_sqlglot_syntax_errors_carry_a_position() -> None:
    with pytest.raises(SqlSyntaxError) as info:
        ddl.parse_ddl("CREATE EXTERNAL TABLE t (a int)\nPARTITIONED BY (")
    assert info.value.line == 2


def test_render_uses_hive_layout() -> None:
    stmt = ddl.parse_ddl(DOC_DDL["parquet_partitioned"])
    assert isinstance(stmt, ddl.CreateTable)
    stmt.table.database = "default"
    text = ddl.render_create_table(stmt.table)
    assert text.startswith("CREATE EXTERNAL TABLE `default`.`flight_delays_pq`(\n  `yr` int,")
    assert "PARTITIONED BY (\n  `year` string)" in text
    assert (
        "ROW FORMAT SERDE\n  'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe'" in text
    )
    assert text.endswith("TBLPROPERTIES (\n  'parquet.compression'='SNAPPY')")


@pytest.mark.parametrize(
    ("sql", "error", "match"),
    [
        (
            "CREATE EXTERNAL TABLE t (a int) LOCATION 's3://b/'; SELECT 1",
            SqlSyntaxError,
            "one statement",
        ),
        (
            "CREATE EXTERNAL TABLE t (a int) ROW FORMAT SERDE 'x' ROW FORMAT SERDE 'y'",
            SqlSyntaxError,
            "repeats",
        ),
        (
            "CREATE EXTERNAL TABLE t (a int) STORED AS PARQUET STORED AS ORC",
            SqlSyntaxError,
            "repeats",
        ),
        ("CREATE EXTERNAL TABLE t (a int) WITH (format='PARQUET')", UnsupportedError, "CTAS"),
        ("CREATE EXTERNAL TABLE t (a int) STORED AS XML", SemanticError, "XML"),
        ("CREATE EXTERNAL TABLE t LOCATION 's3://b/'", SqlSyntaxError, "column list"),
        ("CREATE EXTERNAL TABLE t (a int) PARTITIONED BY (b)", SemanticError, "b needs"),
        ("CREATE OR REPLACE TABLE t (a int)", SqlSyntaxError, "only to views"),
        ("SHOW TABLES extra junk", SqlSyntaxError, "unexpected text"),
    ],
)
def test_create_table_errors(sql: str, error: type[Exception], match: str) -> None:
    with pytest.raises(error, match=match):
        ddl.parse_ddl(sql)


def test_describe_paths_and_partitions_parse() -> None:
    stmt = ddl.parse_ddl("DESCRIBE FORMATTED db.t PARTITION (dt='x') col.f.'$elem$'")
    assert stmt == ddl.Describe(
        ddl.TableRef("db", "t"), "FORMATTED", "col.f.$elem$", ddl.PartitionSpec({"dt": "x"})
    )


@pytest.mark.parametrize(
    ("sql", "match"),
    [
        ("ALTER DATABASE db SET DBPROPERTIES ('a'='b')", "cannot update a database"),
        ("ALTER VIEW v AS SELECT 1", "CREATE OR REPLACE VIEW"),
        ("ALTER TABLE t SET SERDEPROPERTIES ('a'='b')", "not supported by Athena"),
        ("DESCRIBE INPUT my_statement", "prepared statement"),
    ],
)
def test_unsupported_alters_say_why(sql: str, match: str) -> None:
    with pytest.raises(UnsupportedError, match=match):
        ddl.parse_ddl(sql)


def test_change_column_and_rename_partition_parse() -> None:
    assert ddl.parse_ddl("ALTER TABLE t CHANGE COLUMN a b ARRAY<INT> COMMENT 'c' AFTER z") == (
        ddl.ChangeColumn(ddl.TableRef(None, "t"), "a", Column("b", "array<int>", "c"), after="z")
    )
    assert ddl.parse_ddl("ALTER TABLE t PARTITION (dt='a') RENAME TO PARTITION (dt='b')") == (
        ddl.RenamePartition(
            ddl.TableRef(None, "t"), ddl.PartitionSpec({"dt": "a"}), ddl.PartitionSpec({"dt": "b"})
        )
    )


def test_serdeproperties_after_stored_as_as_in_the_synopsis() -> None:
    stmt = ddl.parse_ddl(
        'CREATE EXTERNAL TABLE "table123" (a int) ROW FORMAT SERDE '
        "'org.apache.hadoop.hive.serde2.OpenCSVSerde' STORED AS TEXTFILE "
        "WITH SERDEPROPERTIES ('separatorChar'=';') LOCATION 's3://b/t/'"
    )
    assert isinstance(stmt, ddl.CreateTable)
    assert stmt.table.name == "table123"
    assert stmt.table.serde_parameters == {"separatorChar": ";"}
    assert stmt.table.input_format == ddl.TEXT_INPUT


def test_iceberg_tables_are_recognised_but_not_supported() -> None:
    with pytest.raises(UnsupportedError, match="Iceberg"):
        ddl.parse_ddl(
            "CREATE TABLE ice (id bigint, ts timestamp) PARTITIONED BY (day(ts)) "
            "LOCATION 's3://b/ice/' TBLPROPERTIES ( 'table_type' = 'ICEBERG' )"
        )


def test_serde_properties_after_row_format_delimited_are_kept() -> None:
    stmt = ddl.parse_ddl(
        "CREATE EXTERNAL TABLE t (a string) ROW FORMAT DELIMITED FIELDS TERMINATED BY ',' "
        "WITH SERDEPROPERTIES ('serialization.encoding'='windows-1252', "
        "'serialization.null.format'='') LOCATION 's3://b/t/'"
    )
    assert isinstance(stmt, ddl.CreateTable)
    assert stmt.table.serde_parameters == {
        "field.delim": ",",
        "serialization.format": ",",
        "serialization.encoding": "windows-1252",
        "serialization.null.format": "",
    }
    again = ddl.parse_ddl(ddl.render_create_table(stmt.table))
    assert isinstance(again, ddl.CreateTable)
    assert again.table.serde_parameters == stmt.table.serde_parameters
