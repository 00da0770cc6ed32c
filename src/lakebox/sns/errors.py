"""SNS's errors, each carrying the AWS error code it is answered with."""

from __future__ import annotations

from lakebox.errors import LakeboxError


class SnsError(LakeboxError):
    code = "InternalError"


class NotFound(SnsError):
    code = "NotFound"


class InvalidParameter(SnsError):
    code = "InvalidParameter"


class AuthorizationError(SnsError):
    """A topic of another account (lakebox has no topic policies to share one)."""

    code = "AuthorizationError"


class EmptyBatchRequest(SnsError):
    code = "EmptyBatchRequest"


class TooManyEntriesInBatchRequest(SnsError):
    code = "TooManyEntriesInBatchRequest"


class BatchEntryIdsNotDistinct(SnsError):
    code = "BatchEntryIdsNotDistinct"


class InvalidBatchEntryId(SnsError):
    code = "InvalidBatchEntryId"


class SubscriptionLimitExceeded(SnsError):
    """A topic has as many subscriptions as lakebox keeps for one (SNS's own limit is far
    higher; a local lake has no use for more, and each is a delivery per message)."""

    code = "SubscriptionLimitExceeded"
