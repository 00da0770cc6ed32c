"""The lake's events: S3 bucket notifications, functions (Lambda-style Python handlers)
and EventBridge rules on the default bus (``service.EventService``, the Lakehouse's
``events``); event patterns (``patterns``); S3's event shapes (``s3``); running a handler
in its own process (``functions``, ``worker``). See docs/events.md."""

from __future__ import annotations

from lakebox.events.patterns import InvalidEventPatternError, matches, parse_pattern

__all__ = ["InvalidEventPatternError", "matches", "parse_pattern"]
