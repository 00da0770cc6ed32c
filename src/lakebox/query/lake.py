"""What services below the composition root see of "the lake" (``LakeParts``, defined
beside the Session that uses it): its configuration, storage, catalog and engine, and
sessions on it. ``lakebox.lakehouse.Lakehouse`` is one; services take this Protocol so
that they never import the root that builds them.
"""

from __future__ import annotations

from lakebox.query.session import LakeParts

__all__ = ["LakeParts"]
