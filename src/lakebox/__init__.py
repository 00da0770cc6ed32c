"""lakebox: the serverless AWS data-lake stack on your own machine."""

from lakebox.errors import LakeboxError
from lakebox.session import Lake, Result, Session, connect

__all__ = ["Lake", "LakeboxError", "Result", "Session", "connect"]
__version__ = "0.1.0"
