"""Split a SQL script into statements on ``;``, keeping where each one starts.

The scanning lives in ``lakebox.sql.lexer`` (the one tokenizer); this module keeps the
splitter's names for the CLI, the shell and ``execute_script``.
"""

from __future__ import annotations

from lakebox.sql.lexer import SourceStatement as Statement
from lakebox.sql.lexer import split_statements

__all__ = ["Statement", "split_statements"]
