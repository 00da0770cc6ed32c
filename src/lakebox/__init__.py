"""lakebox: the serverless AWS data-lake stack on your own machine."""

from lakebox.errors import LakeboxError
from lakebox.lakehouse import Lake, connect
from lakebox.query.session import Result, Session
from lakebox.version import __version__

__all__ = ["Lake", "LakeboxError", "Result", "Session", "__version__", "connect"]
