"""Athena's Hive-dialect DDL: statement text -> statement dataclasses, and tables -> DDL text.

``CREATE EXTERNAL TABLE`` is parsed with sqlglot (its Hive grammar covers every clause Athena
documents and unescapes string literals the way Hive does). The other statements come out of
sqlglot as opaque ``Command`` nodes or lose detail (several partitions in one ALTER, SHOW ...
LIKE, DESCRIBE <column>), so they go through the small tokenizer-based parser below, which
follows the same Hive literal rules so both halves agree on what a string means. Its tokens
come from the one lexer (``lakebox.sql.lexer``) in its Hive mode.

``render_create_table`` writes SHOW CREATE TABLE text that parses back into an equal table.
"""

from __future__ import annotations

import re
from dataclasses import replace

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError, TokenError

from lakebox.catalog.model import Column, Table, partition_path
from lakebox.catalog.types import hive_type, parse_type
from lakebox.errors import InvalidRequestError, SemanticError, SqlSyntaxError, UnsupportedError
from lakebox.sql import lexer
from lakebox.sql.ddl_statements import (
    AddColumns,
    AddPartitions,
    ChangeColumn,
    CreateDatabase,
    CreateTable,
    CreateView,
    DdlStatement,
    Describe,
    DropDatabase,
    DropPartitions,
    DropTable,
    DropView,
    MsckRepair,
    PartitionSpec,
    RenamePartition,
    ReplaceColumns,
    SetLocation,
    SetTableProperties,
    ShowColumns,
    ShowCreateTable,
    ShowDatabases,
    ShowPartitions,
    ShowTables,
    ShowTblProperties,
    ShowViews,
    TableRef,
)
from lakebox.sql.lexer import EOF, Token

LAZY_SIMPLE_SERDE = "org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe"
TEXT_INPUT = "org.apache.hadoop.mapred.TextInputFormat"
EXTERNAL_PARAM = "EXTERNAL"
TEXT_OUTPUT = "org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat"

#: STORED AS <name> -> (input format, output format, SerDe), as Glue records them
STORED_AS: dict[str, tuple[str, str, str]] = {
    "PARQUET": (
        "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat",
        "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat",
        "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe",
    ),
    "ORC": (
        "org.apache.hadoop.hive.ql.io.orc.OrcInputFormat",
        "org.apache.hadoop.hive.ql.io.orc.OrcOutputFormat",
        "org.apache.hadoop.hive.ql.io.orc.OrcSerde",
    ),
    "AVRO": (
        "org.apache.hadoop.hive.ql.io.avro.AvroContainerInputFormat",
        "org.apache.hadoop.hive.ql.io.avro.AvroContainerOutputFormat",
        "org.apache.hadoop.hive.serde2.avro.AvroSerDe",
    ),
    "TEXTFILE": (TEXT_INPUT, TEXT_OUTPUT, LAZY_SIMPLE_SERDE),
    "JSON": (TEXT_INPUT, TEXT_OUTPUT, "org.apache.hive.hcatalog.data.JsonSerDe"),
    "ION": (
        "com.amazon.ionhiveserde.formats.IonInputFormat",
        "com.amazon.ionhiveserde.formats.IonOutputFormat",
        "com.amazon.ionhiveserde.IonHiveSerDe",
    ),
    "SEQUENCEFILE": (
        "org.apache.hadoop.mapred.SequenceFileInputFormat",
        "org.apache.hadoop.hive.ql.io.HiveSequenceFileOutputFormat",
        LAZY_SIMPLE_SERDE,
    ),
    "RCFILE": (
        "org.apache.hadoop.hive.ql.io.RCFileInputFormat",
        "org.apache.hadoop.hive.ql.io.RCFileOutputFormat",
        "org.apache.hadoop.hive.serde2.columnar.LazyBinaryColumnarSerDe",
    ),
}

#: ROW FORMAT DELIMITED clause -> LazySimpleSerDe parameter (Glue's key names)
DELIMITED_KEYS: dict[str, str] = {
    "fields": "field.delim",
    "escaped": "escape.delim",
    "collection_items": "collection.delim",
    "map_keys": "mapkey.delim",
    "lines": "line.delim",
    "null": "serialization.null.format",
}
_DELIMITED_SQL: dict[str, str] = {
    "field.delim": "FIELDS TERMINATED BY",
    "escape.delim": "ESCAPED BY",
    "collection.delim": "COLLECTION ITEMS TERMINATED BY",
    "mapkey.delim": "MAP KEYS TERMINATED BY",
    "line.delim": "LINES TERMINATED BY",
    "serialization.null.format": "NULL DEFINED AS",
}


def normalize_column_type(text: str) -> str:
    """Glue's spelling of a column type; struct field names are lower-cased as Hive does."""
    dt = parse_type(text).copy()
    for field_def in dt.find_all(exp.ColumnDef):
        field_def.set("this", exp.to_identifier(field_def.name.lower()))
    return hive_type(dt)


def tokenize(sql: str) -> list[Token]:
    """The statement's tokens under Hive's literal rules (backslash escapes)."""
    return lexer.tokenize(sql, hive=True)


# -- hand-written parser --------------------------------------------------------------------
class _Parser:
    def __init__(self, sql: str) -> None:
        self.sql = sql
        self.toks = tokenize(sql)
        self.pos = 0

    @property
    def tok(self) -> Token:
        return self.toks[self.pos]

    def peek(self, ahead: int = 1) -> Token:
        return self.toks[min(self.pos + ahead, len(self.toks) - 1)]

    def advance(self) -> Token:
        tok = self.tok
        if tok.kind != "EOF":
            self.pos += 1
        return tok

    def error(self, message: str, tok: Token | None = None) -> SqlSyntaxError:
        tok = tok or self.tok
        found = "end of statement" if tok.kind == "EOF" else repr(self.sql[tok.start : tok.end])
        return SqlSyntaxError(f"{message}, found {found}", tok.line, tok.col)

    def accept(self, *words: str) -> bool:
        """Consume the keyword sequence ``words`` if it comes next."""
        for k, word in enumerate(words):
            if not self.peek(k).is_kw(word):
                return False
        self.pos += len(words)
        return True

    def expect(self, *words: str) -> None:
        if not self.accept(*words):
            raise self.error(f"expected {' '.join(words)}")

    def accept_punct(self, ch: str) -> bool:
        if self.tok.kind == "PUNCT" and self.tok.text == ch:
            self.pos += 1
            return True
        return False

    def expect_punct(self, ch: str) -> None:
        if not self.accept_punct(ch):
            raise self.error(f"expected '{ch}'")

    def identifier(self, what: str = "a name") -> str:
        tok = self.tok
        if tok.kind in ("WORD", "QIDENT", "DQ"):
            self.pos += 1
            return tok.text
        raise self.error(f"expected {what}")

    def table_ref(self) -> TableRef:
        parts = [self.identifier("a table name")]
        while self.accept_punct("."):
            parts.append(self.identifier("a name after '.'"))
        return _ref_from_parts(parts, self.toks[self.pos - 1])

    def string(self, what: str = "a quoted string") -> str:
        if self.tok.kind not in ("STRING", "DQ"):
            raise self.error(f"expected {what}")
        out = self.advance().text
        while self.tok.kind == "STRING":  # Hive concatenates adjacent literals
            out += self.advance().text
        return out

    def properties(self) -> dict[str, str]:
        self.expect_punct("(")
        props: dict[str, str] = {}
        if self.accept_punct(")"):
            return props
        while True:
            key = (
                self.string("a quoted property name")
                if self.tok.kind in ("STRING", "DQ")
                else self.identifier("a property name")
            )
            self.expect_punct("=")
            props[key] = self.literal()
            if self.accept_punct(")"):
                return props
            self.expect_punct(",")

    def literal(self) -> str:
        tok = self.tok
        if tok.kind in ("STRING", "DQ"):
            return self.string()
        if tok.kind == "PUNCT" and tok.text in "+-" and self.peek().kind == "NUMBER":
            self.pos += 2
            return ("-" if tok.text == "-" else "") + self.toks[self.pos - 1].text
        if tok.kind == "NUMBER":
            return self.advance().text
        if tok.is_kw("TRUE", "FALSE"):
            return self.advance().text.lower()
        if tok.is_kw("DATE", "TIMESTAMP") and self.peek().kind == "STRING":
            self.pos += 1
            return self.string()
        raise self.error("expected a literal value")

    def partition_spec(self) -> PartitionSpec:
        self.expect_punct("(")
        values: dict[str, str] = {}
        while True:
            key_tok = self.tok
            key = self.identifier("a partition column").lower()
            if key in values:
                raise self.error(f"partition column {key} given twice", key_tok)
            self.expect_punct("=")
            values[key] = self.literal()
            if self.accept_punct(")"):
                return PartitionSpec(values)
            self.expect_punct(",")

    def column_list(self) -> list[Column]:
        self.expect_punct("(")
        cols: list[Column] = []
        while True:
            name = self.identifier("a column name").lower()
            type_text = self.type_text()
            comment = self.string() if self.accept("COMMENT") else None
            cols.append(Column(name, normalize_column_type(type_text), comment))
            if self.accept_punct(")"):
                return cols
            self.expect_punct(",")

    def type_text(self) -> str:
        """The source text of one column type, up to a ``,``/``)``/COMMENT at depth 0."""
        start = self.tok
        depth = 0
        last: Token | None = None
        while True:
            tok = self.tok
            if tok.kind == "EOF":
                break
            if depth == 0 and (
                tok.is_kw("COMMENT", "FIRST", "AFTER")
                or (tok.kind == "PUNCT" and tok.text in ",);")
            ):
                break
            if tok.kind == "PUNCT" and tok.text in "<(":
                depth += 1
            elif tok.kind == "PUNCT" and tok.text in ">)":
                depth -= 1
            last = self.advance()
        if last is None:
            raise self.error("expected a column type", start)
        return self.sql[start.start : last.end]

    def end(self) -> None:
        while self.accept_punct(";"):
            pass
        if self.tok.kind != "EOF":
            raise self.error("unexpected text after the statement")

    def optional_pattern(self) -> str | None:
        self.accept("LIKE")
        if self.tok.kind in ("STRING", "DQ"):
            return self.string()
        return None


def _ref_from_parts(parts: list[str], tok: Token) -> TableRef:
    """`db.table` back-quoted as one identifier names a table in a database, as in Athena.
    Only that one form is split: any other quoted name stays whole, so CREATE checks it as a
    name (lakebox.names) and DROP / SHOW can still reach a table with an odd old name."""
    split = parts
    if len(parts) == 1 and "." in parts[0]:
        pieces = parts[0].split(".")
        if all(pieces) and (
            len(pieces) == 2 or (len(pieces) == 3 and pieces[0].lower() == "awsdatacatalog")
        ):
            split = pieces
    if len(split) == 3 and split[0].lower() == "awsdatacatalog":
        split = split[1:]
    if len(split) == 1:
        return TableRef(None, split[0].lower())
    if len(split) == 2:
        return TableRef(split[0].lower(), split[1].lower())
    raise SqlSyntaxError(f"invalid table name {'.'.join(parts)!r}", tok.line, tok.col)


#: the first words of the statements this parser takes (CTAS aside)
DDL_WORDS = lexer.DDL_WORDS


def parse_ddl(sql: str) -> DdlStatement | None:
    """Parse one DDL statement; None when ``sql`` is not DDL (SELECT, WITH, INSERT, ...)."""
    if lexer.first_word(sql) not in DDL_WORDS:
        return None
    p = _Parser(sql)
    head = p.advance().text.upper()
    stmt: DdlStatement
    if head == "CREATE":
        created = _parse_create(p)
        if created is None or isinstance(created, CreateTable | CreateView):
            return created
        stmt = created
    elif head == "DROP":
        stmt = _parse_drop(p)
    elif head == "ALTER":
        stmt = _parse_alter(p)
    elif head == "MSCK":
        p.expect("REPAIR", "TABLE")
        stmt = MsckRepair(p.table_ref())
    elif head == "SHOW":
        stmt = _parse_show(p)
    else:
        stmt = _parse_describe(p)
    p.end()
    return stmt


def _parse_create(p: _Parser) -> DdlStatement | None:
    or_replace = p.accept("OR", "REPLACE")
    if p.accept("DATABASE") or p.accept("SCHEMA"):
        return _parse_create_database(p)
    if p.accept("VIEW"):
        return _parse_create_view(p, or_replace)
    external = p.accept("EXTERNAL")
    if not p.tok.is_kw("TABLE"):
        raise p.error("expected TABLE, VIEW, DATABASE or SCHEMA after CREATE")
    if or_replace:
        raise p.error("OR REPLACE applies only to views")
    if not external:
        if _is_ctas(p):
            return None
        _reject_managed_table(p)
    return CreateTable(*_create_table_from_ast(p.sql))


def _parse_create_database(p: _Parser) -> CreateDatabase:
    if_not_exists = p.accept("IF", "NOT", "EXISTS")
    name = p.identifier("a database name").lower()
    comment = location = None
    properties: dict[str, str] = {}
    while p.tok.kind != "EOF" and not (p.tok.kind == "PUNCT" and p.tok.text == ";"):
        if p.accept("COMMENT"):
            comment = p.string()
        elif p.accept("LOCATION"):
            location = p.string()
        elif p.accept("WITH", "DBPROPERTIES"):
            properties = p.properties()
        else:
            raise p.error("expected COMMENT, LOCATION or WITH DBPROPERTIES")
    return CreateDatabase(name, if_not_exists, comment, location, properties)


def _parse_create_view(p: _Parser, or_replace: bool) -> CreateView:
    ref = p.table_ref()
    if p.accept("COMMENT"):
        p.string()
    if p.accept("SECURITY") and not (p.accept("DEFINER") or p.accept("INVOKER")):
        raise p.error("expected DEFINER or INVOKER after SECURITY")
    p.expect("AS")
    body = p.sql[p.tok.start :].strip()
    while body.endswith(";"):
        body = body[:-1].rstrip()
    if not p.tok.is_kw("SELECT", "WITH", "VALUES") and not (
        p.tok.kind == "PUNCT" and p.tok.text == "("
    ):
        raise p.error("expected a SELECT query after AS")
    return CreateView(ref, body, or_replace)


def _is_ctas(p: _Parser) -> bool:
    """CREATE TABLE ... AS <query> (CTAS) is a query, run by the query layer, not DDL."""
    depth = 0
    prev = p.tok
    for tok in p.toks[p.pos :]:
        if tok.kind == "PUNCT" and tok.text == "(":
            depth += 1
        elif tok.kind == "PUNCT" and tok.text == ")":
            depth -= 1
        elif depth == 0 and tok.is_kw("AS") and not prev.is_kw("STORED"):
            return True
        prev = tok
    return False


def _reject_managed_table(p: _Parser) -> None:
    if re.search(r"'table_type'\s*=\s*'iceberg'", p.sql, re.I):
        raise UnsupportedError(
            "Iceberg tables are not supported by lakebox yet; "
            "use CREATE EXTERNAL TABLE over Parquet/ORC/... files"
        )
    raise InvalidRequestError(
        "Only external table creation is supported: use CREATE EXTERNAL TABLE ... LOCATION "
        "'s3://...' (Athena creates non-external tables only with CTAS or as Iceberg tables)"
    )


def _parse_drop(p: _Parser) -> DdlStatement:
    if p.accept("DATABASE") or p.accept("SCHEMA"):
        if_exists = p.accept("IF", "EXISTS")
        name = p.identifier("a database name").lower()
        cascade = p.accept("CASCADE")
        if not cascade:
            p.accept("RESTRICT")
        return DropDatabase(name, if_exists, cascade)
    if p.accept("TABLE"):
        if_exists = p.accept("IF", "EXISTS")
        return DropTable(p.table_ref(), if_exists)
    if p.accept("VIEW"):
        if_exists = p.accept("IF", "EXISTS")
        return DropView(p.table_ref(), if_exists)
    raise p.error("expected TABLE, VIEW, DATABASE or SCHEMA after DROP")


def _parse_alter(p: _Parser) -> DdlStatement:
    if not p.accept("TABLE"):
        if p.tok.is_kw("DATABASE", "SCHEMA"):
            raise UnsupportedError(
                "ALTER DATABASE ... SET DBPROPERTIES is not supported by lakebox yet: the "
                "catalog store cannot update a database; drop and recreate it instead"
            )
        if p.tok.is_kw("VIEW"):
            raise UnsupportedError(
                "ALTER VIEW is not supported by Athena: use CREATE OR REPLACE VIEW"
            )
        raise p.error("expected TABLE after ALTER")
    ref = p.table_ref()
    if p.accept("ADD"):
        if p.accept("COLUMNS"):
            return AddColumns(ref, p.column_list())
        if_not_exists = p.accept("IF", "NOT", "EXISTS")
        parts: list[PartitionSpec] = []
        while p.accept("PARTITION"):
            spec = p.partition_spec()
            if p.accept("LOCATION"):
                spec = replace(spec, location=p.string())
            parts.append(spec)
        if not parts:
            raise p.error("expected PARTITION or COLUMNS after ADD")
        return AddPartitions(ref, parts, if_not_exists)
    if p.accept("DROP"):
        if_exists = p.accept("IF", "EXISTS")
        drops: list[PartitionSpec] = []
        while True:
            p.expect("PARTITION")
            drops.append(p.partition_spec())
            if not p.accept_punct(","):
                break
        return DropPartitions(ref, drops, if_exists)
    if p.accept("REPLACE", "COLUMNS"):
        return ReplaceColumns(ref, p.column_list())
    if p.accept("SET", "TBLPROPERTIES"):
        return SetTableProperties(ref, p.properties())
    if p.accept("SET", "LOCATION"):
        return SetLocation(ref, p.string())
    if p.accept("PARTITION"):
        spec = p.partition_spec()
        if p.accept("SET", "LOCATION"):
            return SetLocation(ref, p.string(), spec)
        if p.accept("RENAME", "TO", "PARTITION"):
            return RenamePartition(ref, spec, p.partition_spec())
        raise p.error("expected SET LOCATION or RENAME TO PARTITION after the partition")
    if p.accept("CHANGE"):
        p.accept("COLUMN")
        old_name = p.identifier("the column to change").lower()
        new_name = p.identifier("the new column name").lower()
        type_text = p.type_text()
        comment = p.string() if p.accept("COMMENT") else None
        column = Column(new_name, normalize_column_type(type_text), comment)
        if p.accept("FIRST"):
            return ChangeColumn(ref, old_name, column, first=True)
        if p.accept("AFTER"):
            return ChangeColumn(ref, old_name, column, after=p.identifier("a column name").lower())
        return ChangeColumn(ref, old_name, column)
    if p.tok.is_kw("RENAME"):
        raise UnsupportedError(
            "ALTER TABLE RENAME TO is not supported by Athena: create a new table over the "
            "same LOCATION and drop the old one"
        )
    if p.tok.is_kw("SET", "DROP", "REPLACE", "CLUSTERED", "SKEWED", "TOUCH", "NOT"):
        raise UnsupportedError(f"ALTER TABLE ... {p.tok.text.upper()} is not supported by Athena")
    raise p.error(
        "expected ADD, DROP, CHANGE, REPLACE COLUMNS, SET or PARTITION after the table name"
    )


def _parse_show(p: _Parser) -> DdlStatement:
    if p.accept("DATABASES") or p.accept("SCHEMAS"):
        return ShowDatabases(p.optional_pattern())
    if p.accept("TABLES") or p.accept("VIEWS"):
        views = p.toks[p.pos - 1].is_kw("VIEWS")
        db = (
            p.identifier("a database name").lower()
            if (p.accept("IN") or p.accept("FROM"))
            else None
        )
        pattern = p.optional_pattern()
        return ShowViews(db, pattern) if views else ShowTables(db, pattern)
    if p.accept("PARTITIONS"):
        return ShowPartitions(p.table_ref())
    if p.accept("CREATE"):
        if p.accept("TABLE"):
            return ShowCreateTable(p.table_ref())
        p.expect("VIEW")
        return ShowCreateTable(p.table_ref(), view=True)
    if p.accept("COLUMNS"):
        if not (p.accept("IN") or p.accept("FROM")):
            raise p.error("expected IN or FROM after SHOW COLUMNS")
        ref = p.table_ref()
        if p.accept("IN") or p.accept("FROM"):
            ref = TableRef(p.identifier("a database name").lower(), ref.name)
        return ShowColumns(ref)
    if p.accept("TBLPROPERTIES"):
        ref = p.table_ref()
        prop = None
        if p.accept_punct("("):
            prop = p.string("a quoted property name")
            p.expect_punct(")")
        return ShowTblProperties(ref, prop)
    raise p.error(
        "expected DATABASES, SCHEMAS, TABLES, VIEWS, PARTITIONS, CREATE TABLE, "
        "CREATE VIEW, COLUMNS or TBLPROPERTIES after SHOW"
    )


def _parse_describe(p: _Parser) -> Describe:
    style = None
    if (
        p.tok.is_kw("EXTENDED", "FORMATTED")
        and p.peek().kind != "EOF"
        and not (p.peek().kind == "PUNCT" and p.peek().text in ".;")
    ):
        style = p.advance().text.upper()
    if p.tok.is_kw("INPUT", "OUTPUT") and p.peek().kind in ("WORD", "QIDENT", "DQ"):
        raise UnsupportedError(
            f"DESCRIBE {p.tok.text.upper()} describes a prepared statement; prepared "
            "statements land with the query service"
        )
    if p.tok.is_kw("VIEW") and p.peek().kind in ("WORD", "QIDENT", "DQ"):
        p.advance()  # Athena's DESCRIBE VIEW v
    ref = p.table_ref()
    partition = p.partition_spec() if p.accept("PARTITION") else None
    column = None
    if p.tok.kind in ("WORD", "QIDENT", "DQ"):
        column = p.identifier().lower()
        while p.accept_punct("."):
            part = p.string() if p.tok.kind == "STRING" else p.identifier("a field name")
            column += "." + part.lower()
    return Describe(ref, style, column, partition)


# -- CREATE EXTERNAL TABLE via sqlglot ------------------------------------------------------
def _lit(node: exp.Expression | None) -> str:
    if node is None:
        raise InvalidRequestError("missing value in DDL clause")
    if isinstance(node, exp.Literal):
        return str(node.this)
    if isinstance(node, exp.Concat):
        return "".join(_lit(e) for e in node.expressions)
    if isinstance(node, exp.Boolean):
        return "true" if node.this else "false"
    if isinstance(node, exp.Neg):
        return "-" + _lit(node.this)
    if isinstance(node, exp.Identifier | exp.Var | exp.Column):
        return node.name
    raise InvalidRequestError(f"expected a literal, found {node.sql('hive')}")


def _props(nodes: list[exp.Expression]) -> dict[str, str]:
    return {_lit(p.this): _lit(p.args.get("value")) for p in nodes}


def _column(node: exp.Expression, what: str) -> Column:
    if not isinstance(node, exp.ColumnDef):
        raise SemanticError(f"{what} {node.sql('hive')} needs a name and a type")
    kind = node.args.get("kind")
    if not isinstance(kind, exp.DataType):
        raise SemanticError(f"{what} {node.name} has no type")
    comment = None
    for constraint in node.args.get("constraints") or []:
        if isinstance(constraint.args.get("kind"), exp.CommentColumnConstraint):
            comment = _lit(constraint.args["kind"].this)
        else:
            raise UnsupportedError(
                f"column constraint {constraint.sql('hive')} is not supported by Athena"
            )
    return Column(node.name.lower(), normalize_column_type(kind.sql("hive")), comment)


def _create_table_from_ast(sql: str) -> tuple[Table, bool]:
    try:
        trees = [t for t in sqlglot.parse(sql, read="athena") if t is not None]
    except ParseError as err:
        _find_bad_type(sql)
        first = err.errors[0] if err.errors else {}
        raise SqlSyntaxError(
            str(first.get("description") or err), first.get("line"), first.get("col")
        ) from err
    except TokenError as err:
        raise SqlSyntaxError(f"cannot tokenize the statement: {err}") from err
    if len(trees) != 1:
        raise SqlSyntaxError("expected exactly one statement; run statements one at a time")
    tree = trees[0]
    if not isinstance(tree, exp.Create) or not isinstance(tree.this, exp.Schema):
        raise SqlSyntaxError("CREATE EXTERNAL TABLE needs a column list: (name type, ...)")
    if tree.args.get("expression") is not None:
        raise UnsupportedError(
            "CREATE TABLE AS SELECT (CTAS) is not supported here yet: it "
            "lands with the query service"
        )
    schema = tree.this
    name_node = schema.this
    assert isinstance(name_node, exp.Table)
    parts = [p.name for p in name_node.parts]
    ref = _ref_from_parts(parts, Token(EOF, "", 0, 0, 1, 1))
    table = Table(database=ref.database or "", name=ref.name)
    table.columns = [_column(c, "column") for c in schema.expressions]
    stored_as: str | None = None
    delimited: dict[str, str] | None = None
    props = tree.args.get("properties")
    seen: set[type] = set()
    for prop in props.expressions if props else []:
        if isinstance(prop, exp.ExternalProperty):
            continue
        clause = (
            exp.RowFormatSerdeProperty
            if isinstance(prop, exp.RowFormatDelimitedProperty)
            else type(prop)
        )
        if clause in seen and clause not in (exp.Property, exp.SerdeProperties):
            raise SqlSyntaxError(f"clause {prop.sql('hive')[:60]!r} repeats an earlier one")
        seen.add(clause)
        if isinstance(prop, exp.SchemaCommentProperty):
            table.comment = _lit(prop.this)
        elif isinstance(prop, exp.PartitionedByProperty):
            keys = prop.this.expressions if isinstance(prop.this, exp.Schema) else [prop.this]
            table.partition_keys = [_column(k, "partition column") for k in keys]
        elif isinstance(prop, exp.ClusteredByProperty):
            table.bucket_columns = [e.name.lower() for e in prop.expressions]
            table.num_buckets = int(_lit(prop.args.get("buckets")))
        elif isinstance(prop, exp.RowFormatSerdeProperty):
            table.serde_library = _lit(prop.this)
            serde_props = prop.args.get("serde_properties")
            if serde_props is not None:
                table.serde_parameters = _props(serde_props.expressions)
        elif isinstance(prop, exp.SerdeProperties):
            table.serde_parameters.update(_props(prop.expressions))
        elif isinstance(prop, exp.RowFormatDelimitedProperty):
            delimited = {
                glue: _lit(prop.args[arg])
                for arg, glue in DELIMITED_KEYS.items()
                if prop.args.get(arg) is not None
            }
        elif isinstance(prop, exp.FileFormatProperty):
            if isinstance(prop.this, exp.InputOutputFormat):
                table.input_format = _lit(prop.this.args.get("input_format"))
                table.output_format = _lit(prop.this.args.get("output_format"))
            elif isinstance(prop.this, exp.Literal) and prop.this.is_string:
                raise UnsupportedError(
                    "WITH (format = ...) table properties belong to CTAS and Iceberg tables; "
                    "CREATE EXTERNAL TABLE takes STORED AS <format>"
                )
            else:
                stored_as = _lit(prop.this).upper()
                if stored_as not in STORED_AS:
                    raise SemanticError(
                        f"STORED AS {stored_as} is not a format Athena knows; use one of "
                        f"{', '.join(STORED_AS)} or STORED AS INPUTFORMAT ... OUTPUTFORMAT ..."
                    )
        elif isinstance(prop, exp.LocationProperty):
            table.location = _lit(prop.this)
        elif type(prop) is exp.Property:
            table.parameters[_lit(prop.this)] = _lit(prop.args.get("value"))
        else:
            raise UnsupportedError(
                f"clause {prop.sql('hive')!r} is not supported in CREATE EXTERNAL TABLE"
            )
    _apply_storage(table, stored_as, delimited)
    return table, bool(tree.args.get("exists"))


def _find_bad_type(sql: str) -> None:
    """sqlglot reports an unknown column type as a syntax error; Athena users need to be
    told which type is wrong, so re-read the column list with our parser to find it."""
    p = _Parser(sql)
    while p.tok.kind != "EOF" and not (p.tok.kind == "PUNCT" and p.tok.text == "("):
        p.advance()
    try:
        p.column_list()
    except SqlSyntaxError:
        return


def _apply_storage(table: Table, stored_as: str | None, delimited: dict[str, str] | None) -> None:
    """Fill formats and SerDe the way Hive (and so Glue via Athena) defaults them."""
    if delimited is not None:
        if table.serde_library:
            raise SqlSyntaxError("ROW FORMAT DELIMITED and ROW FORMAT SERDE are exclusive")
        table.serde_library = LAZY_SIMPLE_SERDE
        # WITH SERDEPROPERTIES after ROW FORMAT DELIMITED adds to what the clauses set
        # (Hive: 'serialization.encoding', 'serialization.null.format', ...)
        table.serde_parameters = {
            **delimited,
            "serialization.format": delimited.get("field.delim", "1"),
            **table.serde_parameters,
        }
    if stored_as is not None:
        in_fmt, out_fmt, serde = STORED_AS[stored_as]
        table.input_format, table.output_format = in_fmt, out_fmt
        if not table.serde_library:
            table.serde_library = serde
            if serde == LAZY_SIMPLE_SERDE:
                table.serde_parameters = {"serialization.format": "1"}
    if not table.input_format:
        table.input_format, table.output_format = TEXT_INPUT, TEXT_OUTPUT
    if not table.serde_library:
        table.serde_library = LAZY_SIMPLE_SERDE
        table.serde_parameters = {"serialization.format": "1"}


# -- rendering ------------------------------------------------------------------------------
_RENDER_ESCAPES = {"\\": "\\\\", "'": "\\'", "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def quote_string(value: str) -> str:
    """A Hive string literal that reads back as ``value`` (see ``lexer.hive_unescape``)."""
    out = []
    for ch in value:
        if ch in _RENDER_ESCAPES:
            out.append(_RENDER_ESCAPES[ch])
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    return "'" + "".join(out) + "'"


def quote_ident(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"


def _column_sql(col: Column) -> str:
    text = f"{quote_ident(col.name)} {col.type}"
    return text + (f" COMMENT {quote_string(col.comment)}" if col.comment is not None else "")


def _props_sql(props: dict[str, str]) -> str:
    return ",\n".join(f"  {quote_string(k)}={quote_string(v)}" for k, v in props.items())


def _delimited_clauses(table: Table) -> list[str] | None:
    """ROW FORMAT DELIMITED clauses when the SerDe setup is exactly what they produce."""
    params = table.serde_parameters
    if table.serde_library != LAZY_SIMPLE_SERDE or not params.keys() <= {
        *_DELIMITED_SQL,
        "serialization.format",
    }:
        return None
    if params.get("serialization.format") != params.get("field.delim", "1"):
        return None
    return [
        f"  {sql} {quote_string(params[key])}"
        for key, sql in _DELIMITED_SQL.items()
        if key in params
    ]


def render_create_table(table: Table) -> str:
    """SHOW CREATE TABLE text in Athena's layout; executing it recreates an equal table."""
    if table.is_view:
        return render_create_view(table)
    lines = [f"CREATE EXTERNAL TABLE {quote_ident(table.database)}.{quote_ident(table.name)}("]
    lines.append(",\n".join(f"  {_column_sql(c)}" for c in table.columns) + ")")
    if table.comment is not None:
        lines.append(f"COMMENT {quote_string(table.comment)}")
    if table.partition_keys:
        lines.append("PARTITIONED BY (")
        lines.append(",\n".join(f"  {_column_sql(c)}" for c in table.partition_keys) + ")")
    if table.bucket_columns:
        lines.append("CLUSTERED BY (")
        lines.append(",\n".join(f"  {quote_ident(c)}" for c in table.bucket_columns) + ")")
        lines.append(f"INTO {table.num_buckets} BUCKETS")
    delimited = _delimited_clauses(table)
    if delimited:
        lines.append("ROW FORMAT DELIMITED")
        lines.extend(delimited)
    elif table.serde_library:
        lines.append("ROW FORMAT SERDE")
        lines.append(f"  {quote_string(table.serde_library)}")
        if table.serde_parameters:
            lines.append("WITH SERDEPROPERTIES (")
            lines.append(_props_sql(table.serde_parameters) + ")")
    lines.append("STORED AS INPUTFORMAT")
    lines.append(f"  {quote_string(table.input_format or TEXT_INPUT)}")
    lines.append("OUTPUTFORMAT")
    lines.append(f"  {quote_string(table.output_format or TEXT_OUTPUT)}")
    if table.location is not None:
        lines.append("LOCATION")
        lines.append(f"  {quote_string(table.location)}")
    # EXTERNAL=TRUE is what the EXTERNAL keyword stores; Hive leaves it out here too
    params = {
        k: v
        for k, v in table.parameters.items()
        if not (k == EXTERNAL_PARAM and v.upper() == "TRUE")
    }
    if params:
        lines.append("TBLPROPERTIES (")
        lines.append(_props_sql(params) + ")")
    return "\n".join(lines)


def render_create_view(table: Table) -> str:
    """SHOW CREATE VIEW text (Trino style, as Athena prints it)."""
    body = table.view_original_text or ""
    return f'CREATE VIEW "{table.database}"."{table.name}" AS\n{body}'


def render_partition(keys: list[Column], values: list[str]) -> str:
    """``k1=v1/k2=v2`` as SHOW PARTITIONS prints it."""
    return partition_path(keys, values).rstrip("/")
