"""SNS's API over lakebox's topics (``lakebox.sns``): CreateTopic, ListTopics, DeleteTopic,
GetTopicAttributes, SetTopicAttributes, Subscribe, Unsubscribe, ListSubscriptions,
ListSubscriptionsByTopic, Publish and PublishBatch.

Topics belong to the caller's account; a topic ARN of another account is refused with
``AuthorizationError``. Each operation is authorized as ``sns:<Operation>`` on the topic's
ARN (``Unsubscribe`` on the subscription's topic). Subscriptions deliver over http, https,
email and lakebox's own ``file`` protocol (see ``lakebox.sns.service``). Errors are SNS's
codes (``NotFound``, ``InvalidParameter``, ``AuthorizationError``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

from lakebox.api.base import ApiContext, AwsError, Request, Response, ServiceApi, operations
from lakebox.errors import InvalidRequestError, LakeboxError
from lakebox.sns.errors import SnsError
from lakebox.sns.service import Subscription, check_message

if TYPE_CHECKING:
    from lakebox.sns.service import TopicService

INVALID = "InvalidParameter"


class SnsContext(ApiContext, Protocol):
    @property
    def sns(self) -> TopicService: ...


def error_code(exc: LakeboxError) -> str:
    if isinstance(exc, SnsError):
        return exc.code
    if isinstance(exc, InvalidRequestError):
        return INVALID
    return "InternalError"


def _account(context: Any) -> str:
    principal = getattr(context, "principal", None)
    return str(principal.account_id if principal is not None else context.account_id)


def _required(request: Request, name: str) -> Any:
    value = request.get(name)
    if value is None:
        raise AwsError(INVALID, f"Invalid parameter: {name} Reason: is required")
    return value


def create_topic(request: Request, context: SnsContext) -> Response:
    if request.get("DataProtectionPolicy"):
        raise AwsError(INVALID, "lakebox does not support DataProtectionPolicy")
    topic = context.sns.create_topic(
        _account(context),
        _required(request, "Name"),
        request.get("Attributes"),
        request.get("Tags"),
    )
    return {"TopicArn": topic.arn}


def list_topics(request: Request, context: SnsContext) -> Response:
    arns, token = context.sns.list_topics(_account(context), request.get("NextToken"))
    out: Response = {"Topics": [{"TopicArn": a} for a in arns]}
    if token:
        out["NextToken"] = token
    return out


def delete_topic(request: Request, context: SnsContext) -> Response:
    context.sns.delete_topic(_account(context), _required(request, "TopicArn"))
    return {}


def get_topic_attributes(request: Request, context: SnsContext) -> Response:
    return {
        "Attributes": context.sns.get_topic_attributes(
            _account(context), _required(request, "TopicArn")
        )
    }


def set_topic_attributes(request: Request, context: SnsContext) -> Response:
    context.sns.set_topic_attribute(
        _account(context),
        _required(request, "TopicArn"),
        _required(request, "AttributeName"),
        request.get("AttributeValue"),
    )
    return {}


def subscribe(request: Request, context: SnsContext) -> Response:
    sub = context.sns.subscribe(
        _account(context),
        _required(request, "TopicArn"),
        _required(request, "Protocol"),
        request.get("Endpoint"),
        request.get("Attributes"),
    )
    return {"SubscriptionArn": sub.arn}


def unsubscribe(request: Request, context: SnsContext) -> Response:
    context.sns.unsubscribe(_account(context), _required(request, "SubscriptionArn"))
    return {}


def _subscriptions(subs: list[Subscription], token: str | None) -> Response:
    out: Response = {
        "Subscriptions": [
            {
                "SubscriptionArn": s.arn,
                "Owner": s.account_id,
                "Protocol": s.protocol,
                "Endpoint": s.endpoint,
                "TopicArn": s.topic_arn,
            }
            for s in subs
        ]
    }
    if token:
        out["NextToken"] = token
    return out


def list_subscriptions(request: Request, context: SnsContext) -> Response:
    return _subscriptions(
        *context.sns.list_subscriptions(_account(context), next_token=request.get("NextToken"))
    )


def list_subscriptions_by_topic(request: Request, context: SnsContext) -> Response:
    return _subscriptions(
        *context.sns.list_subscriptions(
            _account(context), _required(request, "TopicArn"), request.get("NextToken")
        )
    )


def _topic_of(request: Request) -> Any:
    if request.get("PhoneNumber") is not None:
        raise AwsError(INVALID, "Invalid parameter: PhoneNumber (lakebox sends no SMS)")
    topic = request.get("TopicArn")
    target = request.get("TargetArn")
    if topic is not None and target is not None:
        raise AwsError(
            INVALID, "Invalid parameter: TopicArn or TargetArn Reason: Only one may be given"
        )
    if topic is None and target is None:
        raise AwsError(
            INVALID,
            "Invalid parameter: TopicArn or TargetArn Reason: no value for required parameter",
        )
    return topic if topic is not None else target


def publish(request: Request, context: SnsContext) -> Response:
    topic = _topic_of(request)
    if request.get("MessageGroupId") is not None or request.get("MessageDeduplicationId"):
        raise AwsError(
            INVALID,
            "Invalid parameter: The MessageGroupId parameter is required for FIFO topics "
            "only (lakebox serves no FIFO topics yet)",
        )
    message = check_message(
        _required(request, "Message"),
        request.get("Subject"),
        request.get("MessageStructure"),
        request.get("MessageAttributes"),
    )
    return {"MessageId": context.sns.publish(_account(context), topic, message)}


def publish_batch(request: Request, context: SnsContext) -> Response:
    result = context.sns.publish_batch(
        _account(context),
        _required(request, "TopicArn"),
        request.get("PublishBatchRequestEntries"),
    )
    return {
        "Successful": [{"Id": i, "MessageId": m} for i, m in result.successful],
        "Failed": [
            {"Id": i, "Code": c, "Message": m, "SenderFault": True} for i, c, m in result.failed
        ],
    }


def _arn(context: Any, name: str) -> str:
    return f"arn:aws:sns:{context.region}:{_account(context)}:{name}"


def _on_topic(request: Request, context: Any) -> list[str]:
    topic = request.get("TopicArn") or request.get("TargetArn")
    return [topic] if isinstance(topic, str) and topic else [_arn(context, "*")]


def _on_new(request: Request, context: Any) -> list[str]:
    name = request.get("Name")
    return [_arn(context, name if isinstance(name, str) and name else "*")]


def _on_subscription(request: Request, context: Any) -> list[str]:
    arn = request.get("SubscriptionArn")
    if isinstance(arn, str) and arn.count(":") == 6:
        return [arn.rsplit(":", 1)[0]]
    return [_arn(context, "*")]


def _no_action_of_its_own(request: Request, context: Any) -> list[str]:
    """PublishBatch has no IAM action of its own: AWS authorizes it as ``sns:Publish`` (a
    Deny of sns:Publish must stop it), so it is checked as that (``_publishes``) only."""
    return []


def _publishes(request: Request, context: Any) -> list[tuple[str, str]]:
    return [("sns:Publish", topic) for topic in _on_topic(request, context)]


API = ServiceApi(
    "sns",
    operations(
        ("CreateTopic", create_topic, _on_new),
        ("ListTopics", list_topics),
        ("DeleteTopic", delete_topic, _on_topic),
        ("GetTopicAttributes", get_topic_attributes, _on_topic),
        ("SetTopicAttributes", set_topic_attributes, _on_topic),
        ("Subscribe", subscribe, _on_topic),
        ("Unsubscribe", unsubscribe, _on_subscription),
        ("ListSubscriptions", list_subscriptions),
        ("ListSubscriptionsByTopic", list_subscriptions_by_topic, _on_topic),
        ("Publish", publish, _on_topic),
        ("PublishBatch", publish_batch, _no_action_of_its_own, _publishes),
    ),
    error_code,
    INVALID,
    prefix="sns",
    denied="AuthorizationError",
)

__all__ = ["API", "SnsContext"]
