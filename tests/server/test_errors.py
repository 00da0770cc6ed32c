"""What a client that gets something wrong sees: AWS's error codes in the service's error
shape, as botocore parses them, and never an answer without authentication."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest
from botocore import UNSIGNED
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

from lakebox.lakehouse import Lakehouse
from server.conftest import REGION, ClientFactory, Served

pytestmark = pytest.mark.xdist_group("server")


def _code(exc: pytest.ExceptionInfo[ClientError]) -> str:
    return str(exc.value.response["Error"]["Code"])


def _send(
    served: Served,
    body: bytes,
    headers: dict[str, str],
    *,
    service: str = "athena",
    sign: bool = True,
) -> tuple[int, dict[str, str], bytes]:
    """A raw POST, signed with the admin's key as boto3 would sign it."""
    request = AWSRequest(method="POST", url=served.url + "/", data=body, headers=headers)
    if sign:
        credentials = Credentials(served.admin_key, served.admin_secret)
        SigV4Auth(credentials, service, REGION).add_auth(request)
    prepared = request.prepare()
    raw = urllib.request.Request(
        prepared.url, data=body, headers=dict(prepared.headers.items()), method="POST"
    )
    try:
        with urllib.request.urlopen(raw, timeout=30) as answer:
            return answer.status, dict(answer.headers.items()), answer.read()
    except urllib.error.HTTPError as err:
        return err.code, dict(err.headers.items()), err.read()


def test_wrong_secret_is_refused(client: ClientFactory, served: Served) -> None:
    sts = client("sts", served.admin_key, "not-the-secret")
    with pytest.raises(ClientError) as exc:
        sts.get_caller_identity()
    assert _code(exc) == "SignatureDoesNotMatch"
    assert exc.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    athena = client("athena", served.admin_key, "not-the-secret")
    with pytest.raises(ClientError) as exc:
        athena.list_work_groups()
    assert _code(exc) == "InvalidSignatureException"


def test_unknown_key_is_refused(client: ClientFactory) -> None:
    athena = client("athena", "AKIAUNKNOWNKEY000000", "whatever")
    with pytest.raises(ClientError) as exc:
        athena.list_work_groups()
    assert _code(exc) == "UnrecognizedClientException"
    sts = client("sts", "AKIAUNKNOWNKEY000000", "whatever")
    with pytest.raises(ClientError) as exc:
        sts.get_caller_identity()
    assert _code(exc) == "InvalidClientTokenId"


def test_unsigned_requests_are_refused(client: ClientFactory) -> None:
    sts = client("sts", signature_version=UNSIGNED)
    with pytest.raises(ClientError) as exc:
        sts.get_caller_identity()
    assert _code(exc) == "MissingAuthenticationToken"
    glue = client("glue", signature_version=UNSIGNED)
    with pytest.raises(ClientError) as exc:
        glue.get_databases()
    assert _code(exc) == "MissingAuthenticationTokenException"


def test_unsigned_request_naming_nothing_gets_no_answer(served: Served) -> None:
    status, _, body = _send(served, b"", {}, sign=False)
    assert status == 403
    assert json.loads(body)["__type"] == "MissingAuthenticationToken"


def test_a_policy_that_does_not_allow_the_call_denies_it(
    client: ClientFactory, lake: Lakehouse
) -> None:
    lake.iam.create_user("served-analyst")
    lake.iam.put_user_policy(
        "served-analyst",
        "athena-read",
        json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {"Effect": "Allow", "Action": "athena:List*", "Resource": "*"},
                    {"Effect": "Allow", "Action": "glue:*", "Resource": "*"},
                    {"Effect": "Deny", "Action": "glue:CreateDatabase", "Resource": "*"},
                ],
            }
        ),
    )
    new = lake.iam.create_access_key("served-analyst")
    key, secret = new.key.access_key_id, new.secret_access_key
    athena = client("athena", key, secret)
    assert "primary" in [g["Name"] for g in athena.list_work_groups()["WorkGroups"]]
    with pytest.raises(ClientError) as exc:
        athena.start_query_execution(QueryString="SELECT 1")
    assert _code(exc) == "AccessDeniedException"
    assert "athena:StartQueryExecution" in exc.value.response["Error"]["Message"]
    glue = client("glue", key, secret)
    glue.get_databases()
    with pytest.raises(ClientError) as exc:
        glue.create_database(DatabaseInput={"Name": "analyst_db"})
    assert _code(exc) == "AccessDeniedException"
    assert "explicit deny" in exc.value.response["Error"]["Message"]


def test_unknown_operation_is_a_clean_error(served: Served) -> None:
    headers = {
        "X-Amz-Target": "AmazonAthena.FlyToTheMoon",
        "Content-Type": "application/x-amz-json-1.1",
    }
    status, answer_headers, body = _send(served, b"{}", headers)
    assert status == 400
    doc = json.loads(body)
    assert doc["__type"] == "UnknownOperationException"
    assert "FlyToTheMoon" in doc["message"]
    assert answer_headers["x-amzn-errortype"] == "UnknownOperationException"


def test_an_operation_lakebox_does_not_serve_yet_is_named(client: ClientFactory) -> None:
    athena = client("athena")
    with pytest.raises(ClientError) as exc:
        athena.list_named_queries()
    assert _code(exc) == "UnknownOperationException"
    assert "ListNamedQueries" in exc.value.response["Error"]["Message"]


@pytest.mark.parametrize(
    "body",
    [b"{not json", b"[1, 2]", b"\xff\xfe", b'{"QueryExecutionId": 5}'],
    ids=["broken", "array", "not-utf8", "wrong-type"],
)
def test_malformed_json_gets_the_services_validation_error(served: Served, body: bytes) -> None:
    headers = {
        "X-Amz-Target": "AmazonAthena.GetQueryExecution",
        "Content-Type": "application/x-amz-json-1.1",
    }
    status, _, answer = _send(served, body, headers)
    assert status == 400
    assert json.loads(answer)["__type"] == "InvalidRequestException"


def test_malformed_query_form_gets_a_query_error(served: Served) -> None:
    headers = {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}
    form = (
        b"Action=AssumeRole&Version=2011-06-15&RoleSessionName=s"
        b"&RoleArn=arn%3Aaws%3Aiam%3A%3A000000000000%3Arole%2Fr&DurationSeconds=abc"
    )
    status, _, answer = _send(served, form, headers, service="sts")
    assert status == 400
    assert b"<ErrorResponse><Error><Type>Sender</Type><Code>ValidationError</Code>" in answer
    assert b"DurationSeconds must be an integer" in answer


def test_a_service_lakebox_does_not_serve_is_named(client: ClientFactory, served: Served) -> None:
    kinesis = client("kinesis")
    with pytest.raises(ClientError) as exc:
        kinesis.list_streams()
    assert _code(exc) == "UnknownServiceException"
    assert "kinesis" in exc.value.response["Error"]["Message"]
    # and only to a caller whose signature checks out
    forged = client("kinesis", served.admin_key, "not-the-secret")
    with pytest.raises(ClientError) as exc:
        forged.list_streams()
    assert _code(exc) == "InvalidSignatureException"


def test_the_server_keeps_serving_after_bad_requests(client: ClientFactory) -> None:
    assert client("athena").list_work_groups()["WorkGroups"]


def test_a_presigned_url_is_verified(client: ClientFactory) -> None:
    sts = client("sts")
    # botocore signs the model's method (POST) unless told the URL will be fetched with GET
    url = sts.generate_presigned_url("get_caller_identity", ExpiresIn=60, HttpMethod="GET")
    with urllib.request.urlopen(url, timeout=30) as answer:
        body = answer.read()
    assert b"<GetCallerIdentityResponse" in body and b":user/admin</Arn>" in body
    tampered = url.replace("X-Amz-Expires=60", "X-Amz-Expires=600")
    with pytest.raises(urllib.error.HTTPError) as exc:
        urllib.request.urlopen(tampered, timeout=30)
    assert exc.value.code == 403
    assert b"<Code>SignatureDoesNotMatch</Code>" in exc.value.read()


@pytest.mark.parametrize(
    "authorization",
    [
        "AWS4-HMAC-SHA256 garbage",
        "AWS4-HMAC-SHA256 Credential=AKIA/20260101/us-east-1/athena/aws4_request",
        "Basic dXNlcjpwYXNz",
    ],
    ids=["garbage", "no-signature", "basic"],
)
def test_a_malformed_authorization_header_is_refused(served: Served, authorization: str) -> None:
    headers = {
        "X-Amz-Target": "AmazonAthena.ListWorkGroups",
        "Content-Type": "application/x-amz-json-1.1",
        "Authorization": authorization,
    }
    status, _, answer = _send(served, b"{}", headers, sign=False)
    assert 400 <= status < 500
    code = json.loads(answer)["__type"]
    assert code in ("IncompleteSignatureException", "MissingAuthenticationTokenException"), code


def test_a_query_list_longer_than_the_door_reads_is_refused(served: Served) -> None:
    tags = "&".join(f"Tags.member.{i}.Key=k{i}&Tags.member.{i}.Value=v" for i in range(1, 10_002))
    form = f"Action=CreateUser&Version=2010-05-08&UserName=served-many-tags&{tags}".encode()
    headers = {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}
    status, _, answer = _send(served, form, headers, service="iam")
    assert status == 400
    assert b"<Code>ValidationError</Code>" in answer
    assert b"Tags has more than 10000 members" in answer
