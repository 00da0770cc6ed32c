"""``lakebox lf ...`` as a user meets it: a real lake folder, the commands through Typer's
runner (one in a real process), the API's validation and one error line for bad input."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from typer.testing import CliRunner

from lakebox.catalog.model import Column, Table
from lakebox.cli import app
from lakebox.config import LakeConfig
from lakebox.lakehouse import Lakehouse
from lakebox.principal import Principal

BOB = "arn:aws:iam::000000000000:user/bob"
ADMIN = "arn:aws:iam::000000000000:user/admin"


@dataclass(frozen=True)
class Done:
    returncode: int
    stdout: str
    stderr: str


def run(home: Path, *args: str, process: bool = False) -> Done:
    argv = ["lf", *args, "--home", str(home)]
    if process:
        env = {**os.environ, "COLUMNS": "80"}
        env.pop("LAKEBOX_HOME", None)
        done = subprocess.run(
            [sys.executable, "-m", "lakebox.cli", *argv],
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
            check=False,
        )
        return Done(done.returncode, done.stdout, done.stderr)
    result = CliRunner().invoke(app, argv, env={"COLUMNS": "200"})
    return Done(result.exit_code, result.stdout, result.stderr)


def _lake(home: Path) -> Lakehouse:
    lake = Lakehouse.open(LakeConfig(home=home))
    if not lake.catalog.table_exists("default", "sales"):
        lake.catalog.create_table(
            Table(
                "default",
                "sales",
                columns=[Column("shop_id", "int"), Column("region", "string")],
                location="s3://bucket-a/sales/",
            )
        )
    return lake


def test_settings_grants_and_listing(tmp_path: Path) -> None:
    home = tmp_path / "lake"
    _lake(home).close()
    done = run(home, "settings", "put", "--admin", ADMIN, "--no-iam-defaults")
    assert done.returncode == 0, done.stderr
    settings = json.loads(run(home, "settings", "get").stdout)
    assert settings["DataLakeAdmins"] == [{"DataLakePrincipalIdentifier": ADMIN}]
    assert settings["CreateTableDefaultPermissions"] == []
    # the table made before governance holds IAMAllowedPrincipals' ALL until revoked
    done = run(
        home, "revoke", "IAM_ALLOWED_PRINCIPALS", "-p", "ALL", "-d", "default", "-t", "sales"
    )
    assert done.returncode == 0, done.stderr
    done = run(
        home, "grant", BOB, "-p", "SELECT", "-d", "default", "-t", "sales", "--columns", "shop_id"
    )
    assert done.returncode == 0, done.stderr
    listed = run(home, "list-permissions", "--principal", BOB, "-d", "default", "-t", "sales")
    assert f"{BOB}  SELECT  columns default.sales(shop_id)" in listed.stdout
    rows = json.loads(run(home, "list-permissions", "--json").stdout)[
        "PrincipalResourcePermissions"
    ]
    assert any(r["Principal"]["DataLakePrincipalIdentifier"] == BOB for r in rows)
    lake = _lake(home)
    try:
        view = lake.lakeformation.table_view(
            Principal("000000000000", BOB), lake.catalog.get_table("default", "sales")
        )
        assert view.columns == {"shop_id"}
    finally:
        lake.close()
    done = run(
        home, "revoke", BOB, "-p", "SELECT", "-d", "default", "-t", "sales", "--columns", "shop_id"
    )
    assert done.returncode == 0, done.stderr
    again = run(
        home, "revoke", BOB, "-p", "SELECT", "-d", "default", "-t", "sales", "--columns", "shop_id"
    )
    assert again.returncode == 1 and "No permissions revoked" in again.stderr


def test_bad_input_is_one_error_line(tmp_path: Path) -> None:
    home = tmp_path / "lake"
    _lake(home).close()
    done = run(home, "grant", "bob", "-p", "SELECT", "-d", "default", "-t", "sales")
    assert done.returncode == 1
    assert done.stderr.startswith("error: Principal.DataLakePrincipalIdentifier 'bob'")
    assert "Traceback" not in done.stderr
    done = run(home, "grant", BOB, "-p", "SELECT", "-d", "default", "-t", "nope")
    assert done.returncode == 1 and "Table nope not found" in done.stderr
    done = run(home, "grant", BOB, "-p", "SELECT", "--location", "s3://bucket-a/x")
    assert done.returncode == 1
    assert "Permissions SELECT cannot be granted on a DATA_LOCATION" in done.stderr


def test_locations_tags_and_filters(tmp_path: Path) -> None:
    home = tmp_path / "lake"
    _lake(home).close()
    assert run(home, "register", "s3://bucket-a/sales").returncode == 0
    assert "arn:aws:s3:::bucket-a/sales" in run(home, "list-resources").stdout
    done = run(
        home, "grant", BOB, "-p", "DATA_LOCATION_ACCESS", "--location", "s3://bucket-a/sales"
    )
    assert done.returncode == 0, done.stderr
    assert run(home, "deregister", "s3://bucket-a/sales").returncode == 0
    assert run(home, "list-resources", "--json").stdout.strip() == json.dumps(
        {"ResourceInfoList": []}, indent=2
    )
    assert run(home, "tags", "create", "role", "analyst", "leader").returncode == 0
    assert run(home, "tags", "list").stdout.strip() == "role: analyst, leader"
    done = run(
        home,
        "tags",
        "assign",
        "role=analyst",
        "-d",
        "default",
        "-t",
        "sales",
        "--columns",
        "region",
    )
    assert done.returncode == 0, done.stderr
    bad = run(home, "tags", "assign", "role=boss", "-d", "default", "-t", "sales")
    assert bad.returncode == 1 and "boss" in bad.stderr
    assert (
        run(
            home, "tags", "remove", "role", "-d", "default", "-t", "sales", "--columns", "region"
        ).returncode
        == 0
    )
    done = run(
        home,
        "filters",
        "create",
        "west",
        "-d",
        "default",
        "-t",
        "sales",
        "--row-filter",
        "region = 'west'",
    )
    assert done.returncode == 0, done.stderr
    assert "default.sales:west  region = 'west'  all columns" in run(home, "filters", "list").stdout
    bad = run(
        home,
        "filters",
        "create",
        "x",
        "-d",
        "default",
        "-t",
        "sales",
        "--row-filter",
        "sleep(1) = 0",
    )
    assert bad.returncode == 1 and "not allowed" in bad.stderr
    assert run(home, "filters", "delete", "west", "-d", "default", "-t", "sales").returncode == 0
    assert run(home, "filters", "list").stdout == ""


def test_help_fits_80_columns_in_a_real_process(tmp_path: Path) -> None:
    done = run(tmp_path / "lake", "grant", "--help", process=True)
    assert done.returncode == 0, done.stderr
    assert max(len(line) for line in done.stdout.splitlines()) <= 80
    assert "GrantPermissions" in done.stdout
