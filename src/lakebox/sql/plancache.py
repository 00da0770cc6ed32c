"""Whole plans of repeated queries, reused while everything they were made from is unchanged.

Planning a query costs 1-3 ms of Python (parse, catalog look-ups, listing, the readers'
scan SQL, translation) however small the table: against a 10 ms DuckDB scan of one
Parquet file that is lakebox's whole overhead. A SELECT's compiled form (the engine's query)
is a function of its text, the current database, the principal and the policy deciding
what it may see, the catalog, the files of every table it reads and a few settings, so a
repeated statement can skip straight to the engine when none of these changed since its
plan was made:

- the catalog: its generation counter (any DDL, partition or crawler change bumps it);
- the files: every listing the plan read still has the version it had (``Storage.listing``,
  kept current by inotify); plans over S3, symlink manifests, partition projection (its
  candidates depend on the clock) or ``information_schema`` are never kept;
- lake-cache files the SQL reads (compacted, decompressed, decoded copies) still exist;
  their recency is refreshed as a planned read would;
- the principal's key and the policy version, part of the key: one principal's plan never
  serves another; a principal other than the local administrator has the plan's access
  checks (``lakebox.sql.access.RecordingAccess``) asked again at each reuse;
- the engine that compiled it (a lake may run workgroups and sessions on both), the
  settings named in ``PLAN_SETTINGS`` and the engine's own (``Engine.plan_settings``:
  compaction policy, ...), part of the key.

A plan is stored only after it ran successfully. ``LAKEBOX_PLAN_CACHE=off`` turns reuse off.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from lakebox.catalog.store import CatalogStore
from lakebox.sql.plan import ListingDependency, ScanStats
from lakebox.storage import Storage

#: environment settings the planner reads that change what a plan holds (an engine names
#: its own in ``Engine.plan_settings``)
PLAN_SETTINGS: tuple[str, ...] = ("LAKEBOX_LISTING_CACHE",)
DEFAULT_SIZE = 256


@dataclass(frozen=True)
class CachedPlan:
    #: the engine's compiled query (``lakebox.engine.base.CompiledQuery``), run again as is
    query: Any
    names: list[str] | None
    stats: ScanStats
    generation: int
    listings: tuple[ListingDependency, ...]
    cache_files: tuple[str, ...]
    #: the planner's access checks, asked again on each reuse (``lakebox.sql.access``)
    checks: tuple[Any, ...] = ()


PlanKey = tuple[str, str, str, int, tuple[str | None, ...]]


def enabled() -> bool:
    return os.environ.get("LAKEBOX_PLAN_CACHE", "on").strip().lower() not in ("off", "0", "false")


class PlanCache:
    """A bounded, thread-safe map from (statement, database, principal, policy version,
    settings) to a plan."""

    def __init__(self, size: int = DEFAULT_SIZE) -> None:
        self._plans: OrderedDict[PlanKey, CachedPlan] = OrderedDict()
        self._lock = threading.Lock()
        self._size = size
        #: lookups answered by a current plan, and lookups of a stored plan found stale
        self.hits = 0
        self.stale = 0

    @staticmethod
    def key(
        text: str,
        database: str,
        principal: str,
        policy_version: int,
        settings: tuple[str, ...] = (),
        *,
        engine: str = "",
    ) -> PlanKey:
        """``principal`` is ``Principal.key``; ``settings`` the engine's ``plan_settings``;
        ``engine`` the engine's name: a query compiled by one engine never runs on the
        other (one lake can hold both, ``Lakehouse.engine_for``)."""
        env = os.environ.get
        values = tuple(env(name) for name in PLAN_SETTINGS) + tuple(env(name) for name in settings)
        return text, database, principal, policy_version, (engine, *values)

    def get(self, key: PlanKey, catalog: CatalogStore, storage: Storage) -> CachedPlan | None:
        """The plan stored under ``key`` if it is still current (a stale one is dropped)."""
        with self._lock:
            plan = self._plans.get(key)
            if plan is None:
                return None
            self._plans.move_to_end(key)
        if is_current(plan, catalog, storage):
            self.hits += 1
            return plan
        self.stale += 1
        self.discard(key)
        return None

    def put(self, key: PlanKey, plan: CachedPlan) -> None:
        with self._lock:
            self._plans[key] = plan
            self._plans.move_to_end(key)
            while len(self._plans) > self._size:
                self._plans.popitem(last=False)

    def discard(self, key: PlanKey) -> None:
        with self._lock:
            self._plans.pop(key, None)

    def clear(self) -> None:
        with self._lock:
            self._plans.clear()

    def __len__(self) -> int:
        return len(self._plans)


def is_current(plan: CachedPlan, catalog: CatalogStore, storage: Storage) -> bool:
    if catalog.generation() != plan.generation:
        return False
    for dep in plan.listings:
        if storage.listing_version(dep.location) != dep.version:
            return False
    for path in plan.cache_files:
        try:
            os.utime(path)  # recency for the cache's eviction, as a planned read does
        except OSError:
            return False
    return True
