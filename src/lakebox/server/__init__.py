"""``lakebox serve``: the lake's AWS APIs on one HTTP port, for boto3, the AWS CLI and the
tools built on them.

``build_app`` makes the ASGI app for a started Lakehouse (``app``); ``serve`` opens a lake,
makes its first administrator if it has no users, and runs the app under uvicorn until
interrupted (``runner``). Requests go through the door (``door``): routed by SigV4 scope,
target and path, authenticated and authorised by the lake's IAM service, read and written
with each service's protocol from botocore's models (``models``, ``query``, ``restjson``).
"""

from __future__ import annotations

from lakebox.server.app import build_app
from lakebox.server.runner import serve

__all__ = ["build_app", "serve"]
