"""The docs' conformance tables are the ones the corpora give."""

from __future__ import annotations

from pathlib import Path

import pytest

from conformance.corpus import CorpusError, parse_sqltest
from conformance.report import BLOCKS, render


@pytest.mark.parametrize("path", list(BLOCKS), ids=[p.name for p in BLOCKS])
def test_docs_show_the_current_pass_rates(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    assert render(text, BLOCKS[path]) == text, "run ./dev conformance-docs"


def test_a_differs_case_must_be_an_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.sqltest"
    bad.write_text("differs: no reason\nquery x\nSELECT 1\n----\n1\n")
    with pytest.raises(CorpusError, match="must be an 'error'"):
        parse_sqltest(bad)
