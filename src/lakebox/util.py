"""Small helpers shared by layers that must not import each other (the CLI, services and
metadata checks): kept free of heavy imports so the CLI's start-up does not pay for them."""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Callable
from typing import Any


def pid_alive(pid: int) -> bool:
    """Whether a process with this id runs on this machine (ours always does). A process
    we may not signal is alive; a non-positive id never is."""
    if pid <= 0:
        return False
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def human_bytes(n: int, decimals: int = 1) -> str:
    """``1536`` -> ``1.5 KB`` (binary units, as the Athena console shows data scanned)."""
    size = float(n)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.{decimals}f} {unit}"
        size /= 1024
    return f"{n} B"


def lazy_exports(package: str, names: dict[str, str]) -> Callable[[str], Any]:
    """A module ``__getattr__`` (PEP 562) for a package that re-exports ``names`` (name ->
    defining module): each is imported the first time it is asked for, so importing one
    light submodule of the package (``lakebox.crawler.model``, ``lakebox.errors``) does not
    pull in its heavy siblings, and a command starts without what it never uses."""

    def __getattr__(name: str) -> Any:
        module = names.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module), name)
        setattr(sys.modules[package], name, value)
        return value

    return __getattr__


def page_token(offset: int) -> str:
    """The NextToken of a listing's page that starts at ``offset`` (opaque to clients)."""
    import base64

    return base64.urlsafe_b64encode(f"lakebox:{offset}".encode()).decode("ascii")


def page_offset(token: Any) -> int | None:
    """The offset a ``page_token`` names: 0 for no token, None for a token lakebox never
    gave (the caller answers its service's error)."""
    import base64
    import binascii

    if token is None:
        return 0
    try:
        text = base64.urlsafe_b64decode(str(token).encode("ascii")).decode("ascii")
    except (ValueError, UnicodeError, binascii.Error):
        return None
    prefix, _, number = text.partition(":")
    if prefix != "lakebox" or not number.isdigit():
        return None
    return int(number)
