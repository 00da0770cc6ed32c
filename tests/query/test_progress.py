"""`lakebox sql` shows how far a long statement is on a terminal, and nothing on a pipe:
a real subprocess whose standard error is a pseudo-terminal."""

from __future__ import annotations

import os
import pty
import re
import subprocess
import sys
import threading
from pathlib import Path

from lakebox.config import LakeConfig
from lakebox.query.progress import status_text
from lakebox.session import Lake

from .test_cutoff import write_big_table

#: a second or two over the ~60 MB table: long enough to be seen running
CTAS = "CREATE TABLE copied WITH (external_location = 's3://out/copied/') AS SELECT * FROM big"


def _lakebox(home: Path, *args: str, tty: bool) -> tuple[int, str, str]:
    """Run ``lakebox`` with standard error a terminal (``tty``) or a pipe."""
    env = {**os.environ, "LAKEBOX_HOME": str(home), "TERM": "xterm", "COLUMNS": "120"}
    env.pop("NO_COLOR", None)
    cmd = [sys.executable, "-m", "lakebox.cli", *args]
    if not tty:
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=120)
        return proc.returncode, proc.stdout, proc.stderr
    master, slave = pty.openpty()
    chunks: list[bytes] = []

    def drain() -> None:
        while True:
            try:
                data = os.read(master, 4096)
            except OSError:
                return
            if not data:
                return
            chunks.append(data)

    reader = threading.Thread(target=drain)
    reader.start()
    try:
        proc = subprocess.run(
            cmd, stdout=subprocess.PIPE, stderr=slave, text=True, env=env, timeout=120
        )
    finally:
        os.close(slave)
        reader.join(timeout=10)
        os.close(master)
    return proc.returncode, proc.stdout, b"".join(chunks).decode(errors="replace")


def test_a_long_ctas_shows_its_progress_on_a_terminal(lake_home: Path) -> None:
    lake = Lake(LakeConfig.from_env(home=lake_home, storage="local"))
    write_big_table(lake, "text")
    lake.close()
    code, out, err = _lakebox(lake_home, "sql", CTAS, tty=True)
    assert code == 0, err
    assert "SUCCEEDED" in out
    scanned = [float(m) for m in re.findall(r"running · (?:\d+% · )?([\d.]+) MB scanned", err)]
    assert scanned, err[-2000:]
    assert max(scanned) > 1  # the bytes grow while it runs, before the result is known


def test_a_pipe_gets_no_progress_line(lake_home: Path) -> None:
    lake = Lake(LakeConfig.from_env(home=lake_home, storage="local"))
    write_big_table(lake, "text")
    lake.close()
    code, out, err = _lakebox(lake_home, "sql", CTAS, tty=False)
    assert code == 0, err
    assert err == ""
    assert "SUCCEEDED" in out


def test_status_text_names_state_percent_bytes_and_time() -> None:
    assert status_text("RUNNING", (42.4, 5 * 1024 * 1024), 3.21) == (
        "running · 42% · 5.0 MB scanned · 3.2 s"
    )
    assert status_text("RUNNING", (-1.0, 0), 0.0) == "running · 0 B scanned · 0.0 s"
    assert status_text("QUEUED", None, 1.0) == "queued · 1.0 s"
