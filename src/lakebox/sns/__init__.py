"""SNS topics, subscriptions and Publish (``lakebox.sns.service``), delivering through the
workflow package's notification sinks; the API layer's ``lakebox.api.sns`` answers it over
AWS's shapes."""

from __future__ import annotations

from lakebox.sns.errors import AuthorizationError, InvalidParameter, NotFound, SnsError

__all__ = ["AuthorizationError", "InvalidParameter", "NotFound", "SnsError"]
