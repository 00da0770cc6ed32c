"""lakebox: the serverless AWS data-lake stack on your own machine."""

from lakebox.errors import LakeboxError
from lakebox.lakehouse import Lake, connect
from lakebox.query.session import Result, Session

__all__ = ["Lake", "LakeboxError", "Result", "Session", "connect"]
__version__ = "0.1.0"
