"""The composition root: building a Lakehouse does no start-up work, start() does, and
every service is made once, on first use, from the lake's own pieces."""

from __future__ import annotations

from pathlib import Path

import pytest

from lakebox.catalog.visibility import OPEN, LakeFormationVisibility, Visibility
from lakebox.config import LakeConfig
from lakebox.errors import LakeNotFoundError
from lakebox.lakehouse import Lake, Lakehouse


def test_building_a_lakehouse_touches_no_files(tmp_path: Path) -> None:
    home = tmp_path / "lake"
    lake = Lakehouse(LakeConfig.from_env(home=home))
    try:
        assert not home.exists()
        assert not lake.started
    finally:
        lake.close()


def test_start_creates_the_home_and_the_default_database(tmp_path: Path) -> None:
    lake = Lakehouse.open(LakeConfig.from_env(home=tmp_path / "lake"))
    try:
        assert lake.started
        assert lake.catalog.database_exists("default")
    finally:
        lake.close()


def test_start_without_create_refuses_a_missing_lake(tmp_path: Path) -> None:
    lake = Lakehouse(LakeConfig.from_env(home=tmp_path / "nowhere"))
    try:
        with pytest.raises(LakeNotFoundError):
            lake.start(create=False)
    finally:
        lake.close()


def test_lake_starts_in_its_constructor_as_before(tmp_path: Path) -> None:
    lake = Lake(LakeConfig.from_env(home=tmp_path / "lake"))
    try:
        assert isinstance(lake, Lakehouse)
        assert lake.started
        assert lake.catalog.database_exists("default")
    finally:
        lake.close()


def test_services_are_made_once_and_share_the_lakes_pieces(lake_home: Path) -> None:
    lake = Lakehouse.open(LakeConfig.from_env(home=lake_home))
    try:
        assert lake.queries is lake.queries
        assert lake.workgroups is lake.queries
        assert lake.queries.lake is lake
        assert lake.crawlers.catalog is lake.catalog
        assert lake.crawlers.storage is lake.storage
        assert lake.streams.catalog is lake.catalog
        assert lake.exports.storage is lake.storage
        assert lake.snapshots.catalog is lake.catalog
        assert lake.glue_jobs.queries is lake.queries
        # Lake Formation's permissions decide what is seen, over the open policy
        assert isinstance(lake.visibility, LakeFormationVisibility)
        assert lake.visibility.base is OPEN
        assert lake.queries.visibility is lake.visibility
    finally:
        lake.close()


def test_workflow_tasks_reach_the_lakes_own_services(lake_home: Path) -> None:
    lake = Lakehouse.open(LakeConfig.from_env(home=lake_home))
    try:
        services = lake.workflows.services
        assert "queries" in services
        assert services["lake"] is lake
        assert services["queries"] is lake.queries
        assert services["crawlers"] is lake.crawlers
        assert services["delivery_streams"] is lake.streams
        assert services["glue_jobs"] is lake.glue_jobs
    finally:
        lake.close()


def test_closing_the_workflow_service_leaves_the_lakes_services_open(lake_home: Path) -> None:
    lake = Lakehouse.open(LakeConfig.from_env(home=lake_home))
    try:
        queries = lake.workflows.services["queries"]
        lake.workflows.close()
        qid = queries.start_query_execution("SELECT 1")
        assert queries.wait(qid).state == "SUCCEEDED"
    finally:
        lake.close()


def test_a_lake_takes_its_visibility_policy(tmp_path: Path) -> None:
    policy = Visibility()
    lake = Lakehouse(LakeConfig.from_env(home=tmp_path / "lake"), visibility=policy)
    try:
        assert lake.visibility is policy
    finally:
        lake.close()
