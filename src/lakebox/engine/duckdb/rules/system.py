"""Trino's IP address type and function, session information, and the function families
lakebox refuses by name rather than let DuckDB answer them differently.

IPADDRESS values are carried as their canonical text: what GetQueryResults prints for them
(an IPv4 address, or an IPv4-mapped IPv6 one, as a dotted quad; any other IPv6 address in the
RFC 5952 short form, as Java's ``InetAddresses.toAddrString`` spells it). Canonical text keeps
equality, ``DISTINCT`` and ``GROUP BY`` right, and ``CAST(ip AS VARCHAR)`` is the text itself.
Ordering is not: text orders ``10.0.0.9`` after ``10.0.0.10``, where Trino orders by the
16-byte address. ``ORDER BY``, ``<``/``>`` and ``BETWEEN`` use that address where the type
is visible in the tree (``order_key``, ``compare_sql``, ``between_sql``), and min/max-like
functions of such a value are refused; a column of a WITH query or a VALUES list, whose type
sqlglot does not carry, still orders as text (docs/sql-support.md says so).

DuckDB's ``inet`` extension would carry the type, but it is an extension to download, and
lakebox runs offline; parsing, CIDR containment and the ordering key run as Python functions
(Python's ``ipaddress`` module).
"""

from __future__ import annotations

import ipaddress

from sqlglot import exp
from sqlglot.generators.duckdb import DuckDBGenerator

from lakebox.engine.duckdb.rules.base import AnonHandler, Handler
from lakebox.engine.duckdb.rules.text_udfs import PythonFunction, TrinoFunctionError
from lakebox.errors import UnsupportedError

#: Athena's catalog of Glue databases, as Trino names a catalog (lower case)
CATALOG = "awsdatacatalog"

_Address = ipaddress.IPv4Address | ipaddress.IPv6Address


def _parse_address(text: str) -> _Address:
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        raise TrinoFunctionError(f"Cannot cast value to IPADDRESS: {text}") from None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def canonical_ipaddress(text: str) -> str:
    """``CAST(text AS IPADDRESS)``: the address as Trino prints it."""
    return str(_parse_address(text))


def _as_v6(address: _Address) -> int:
    """The address as Trino stores it: 128 bits, an IPv4 address IPv4-mapped."""
    if isinstance(address, ipaddress.IPv4Address):
        return int(ipaddress.IPv6Address(f"::ffff:{address}"))
    return int(address)


def ip_contains(network: str, address: str) -> bool:
    """``contains(network, address)``: whether the CIDR ``network`` holds ``address``. An IPv4
    network is compared in its IPv4-mapped IPv6 form (its prefix length plus 96), so that
    IPv4 and IPv6 values meet as they do in Trino's 16-byte representation."""
    try:
        net = ipaddress.ip_network(network, strict=False)
    except ValueError:
        raise TrinoFunctionError(f"Invalid CIDR: {network}") from None
    prefix = net.prefixlen + (96 if net.version == 4 else 0)
    base = _as_v6(net.network_address)
    mask = ((1 << prefix) - 1) << (128 - prefix) if prefix else 0
    return (_as_v6(_parse_address(address)) & mask) == (base & mask)


def ip_order_key(address: str) -> bytes:
    """The 16 bytes Trino orders IPADDRESS values by."""
    return _as_v6(_parse_address(address)).to_bytes(16, "big")


UDFS: list[PythonFunction] = [
    PythonFunction("trino_ipaddress", canonical_ipaddress, ("VARCHAR",), "VARCHAR"),
    PythonFunction("trino_ip_contains", ip_contains, ("VARCHAR", "VARCHAR"), "BOOLEAN"),
    PythonFunction("trino_ip_key", ip_order_key, ("VARCHAR",), "BLOB"),
]


def _is_ipaddress(node: exp.Expression) -> bool:
    if isinstance(node, exp.Cast) and node.to.is_type(exp.DataType.Type.IPADDRESS):
        return True
    return node.type is not None and node.type.is_type(exp.DataType.Type.IPADDRESS)


def order_key(node: exp.Expression) -> exp.Func | None:
    """What to order a value known to be an IPADDRESS by (its text would order
    ``10.0.0.10`` before ``10.0.0.9``); None for any other value. A value whose type
    lakebox cannot see (a column of a WITH query or of VALUES) still orders as text."""
    return exp.func("trino_ip_key", node.copy()) if _is_ipaddress(node) else None


_ORDERING = (exp.GT, exp.GTE, exp.LT, exp.LTE)


def between_sql(gen: DuckDBGenerator, e: exp.Between) -> str | None:
    """``x BETWEEN low AND high`` with a part known to be an IPADDRESS compares addresses."""
    parts = [e.this, e.args["low"], e.args["high"]]
    if not any(_is_ipaddress(p) for p in parts):
        return None
    this, low, high = (gen.sql(exp.func("trino_ip_key", p.copy())) for p in parts)
    return f"({this}) BETWEEN ({low}) AND ({high})"


def compare_sql(gen: DuckDBGenerator, e: exp.Expression) -> str | None:
    """``<``, ``<=``, ``>``, ``>=`` with an operand known to be an IPADDRESS compare the
    addresses; equality of canonical text is already right."""
    if not isinstance(e, _ORDERING) or not (_is_ipaddress(e.this) or _is_ipaddress(e.expression)):
        return None
    left = exp.func("trino_ip_key", e.this.copy())
    right = exp.func("trino_ip_key", e.expression.copy())
    return str(getattr(DuckDBGenerator, f"{e.key}_sql")(gen, type(e)(this=left, expression=right)))


def cast_sql(gen: DuckDBGenerator, e: exp.Cast) -> str | None:
    """``CAST(x AS IPADDRESS)`` and the literal ``IPADDRESS '...'`` as canonical text; a
    varbinary source (Trino's 16-byte form) is refused by name, and so is a cast of a known
    IPADDRESS value to anything but text (its text would be cast, not the address)."""
    if not e.to.is_type(exp.DataType.Type.IPADDRESS):
        if _is_ipaddress(e.this) and not e.to.is_type(*exp.DataType.TEXT_TYPES):
            raise UnsupportedError(f"CAST(IPADDRESS AS {e.to.sql().lower()}) is not supported")
        return None
    source = e.this
    if source.type is not None and source.type.is_type(
        exp.DataType.Type.VARBINARY, exp.DataType.Type.BINARY
    ):
        raise UnsupportedError("CAST(varbinary AS IPADDRESS) is not supported")
    return gen.func("trino_ipaddress", exp.cast(source.copy(), exp.DataType.Type.VARCHAR))


def _contains(gen: DuckDBGenerator, e: exp.Expression) -> str:
    """``contains`` is both the array function and the IP address one; the second argument
    being an IPADDRESS value (Trino resolves the overload by it) picks the IP form."""
    assert isinstance(e, exp.ArrayContains)
    address = e.expression
    if _is_ipaddress(address):
        return gen.func("trino_ip_contains", e.this, address)
    return str(DuckDBGenerator.TRANSFORMS[exp.ArrayContains](gen, e))


def _current_user(gen: DuckDBGenerator, e: exp.Expression) -> str:
    """Athena documents no value for ``current_user`` (DuckDB would answer ``duckdb``); its
    own ``invoker_principal()`` gives the caller's ARN."""
    raise UnsupportedError(
        "current_user is not supported: Athena does not document its value; "
        "invoker_principal() gives the caller's ARN"
    )


def _refused(reason: str) -> AnonHandler:
    def handler(gen: DuckDBGenerator, e: exp.Anonymous) -> str:
        raise UnsupportedError(f"function {e.name.lower()} is not supported: {reason}")

    return handler


_ANSI = _refused("Trino's ANSI colour rendering is not reproduced")

_NO_GEOMETRY = "the Geometry, SphericalGeography and BingTile types are not supported"

#: Trino's geospatial functions. DuckDB's spatial extension has many of the same names with
#: other answers (``ST_AsText`` of an empty line, planar against spherical distance...); it is
#: never installed by lakebox, but DuckDB would load it if the user had, so each name is
#: refused here rather than left to whichever DuckDB the machine has.
GEOSPATIAL = [
    "st_asbinary",
    "st_asewkb",
    "st_astext",
    "st_asewkt",
    "st_geometryfromtext",
    "st_geomfrombinary",
    "st_geomfromewkt",
    "st_geomfromkml",
    "geometry_from_hadoop_shape",
    "st_linefromtext",
    "st_linestring",
    "st_collect",
    "st_makeline",
    "st_makepolygon",
    "st_multipoint",
    "st_multi",
    "st_polygon",
    "to_spherical_geography",
    "to_geometry",
    "st_contains",
    "st_crosses",
    "st_disjoint",
    "st_equals",
    "st_intersects",
    "st_overlaps",
    "st_relate",
    "st_touches",
    "st_within",
    "geometry_nearest_points",
    "geometry_union",
    "st_boundary",
    "st_buffer",
    "st_force2d",
    "st_force3d",
    "st_difference",
    "st_envelope",
    "st_envelopeaspts",
    "st_exteriorring",
    "st_intersection",
    "st_linemerge",
    "st_normalize",
    "st_polygonize",
    "st_reduceprecision",
    "st_symdifference",
    "st_union",
    "st_voronoipolygons",
    "st_area",
    "st_centroid",
    "st_convexhull",
    "st_minimumboundingcircle",
    "st_orientedenvelope",
    "st_coorddim",
    "st_dimension",
    "st_geometryn",
    "st_interiorringn",
    "st_geometrytype",
    "st_isclosed",
    "st_isempty",
    "st_issimple",
    "st_isring",
    "st_isvalid",
    "st_length",
    "st_pointn",
    "st_points",
    "st_pointonsurface",
    "st_xmax",
    "st_ymax",
    "st_xmin",
    "st_ymin",
    "st_startpoint",
    "st_srid",
    "st_setsrid",
    "st_transform",
    "st_transformxy",
    "simplify_geometry",
    "st_endpoint",
    "st_x",
    "st_y",
    "st_z",
    "st_interiorrings",
    "st_numgeometries",
    "st_geometries",
    "st_numpoints",
    "st_numinteriorring",
    "line_interpolate_point",
    "line_interpolate_points",
    "line_locate_point",
    "geometry_invalid_reason",
    "great_circle_distance",
    "to_geojson_geometry",
    "from_geojson_geometry",
    "convex_hull_agg",
    "geometry_collect_agg",
    "geometry_union_agg",
    "spatial_partitioning",
    "spatial_partitions",
    "bing_tile",
    "bing_tile_at",
    "bing_tiles_around",
    "bing_tile_coordinates",
    "bing_tile_polygon",
    "bing_tile_quadkey",
    "bing_tile_zoom_level",
    "geometry_to_bing_tiles",
    "to_encoded_polyline",
    "from_encoded_polyline",
]


def _no_geometry(name: str) -> Handler:
    def handler(gen: DuckDBGenerator, e: exp.Expression) -> str:
        raise UnsupportedError(f"function {name} is not supported: {_NO_GEOMETRY}")

    return handler


def _text_ordered(kind: type[exp.Expression], shown: str, *arguments: str) -> Handler:
    """min, max, greatest, least, max_by and min_by would pick by the text of an IPADDRESS
    value; refused by name where the type is visible, rather than answer by the text."""
    name = kind.key

    def handler(gen: DuckDBGenerator, e: exp.Expression) -> str:
        for argument in arguments:
            values = e.args.get(argument)
            for value in values if isinstance(values, list) else [values]:
                if isinstance(value, exp.Expression) and _is_ipaddress(value):
                    raise UnsupportedError(f"{shown} of IPADDRESS values is not supported")
        rule = DuckDBGenerator.TRANSFORMS.get(kind) or getattr(DuckDBGenerator, f"{name}_sql", None)
        if rule is None:
            assert isinstance(e, exp.Func)
            return str(gen.function_fallback_sql(e))
        return str(rule(gen, e))

    return handler


TRANSFORMS: dict[type[exp.Expression], Handler] = {
    exp.ArrayContains: _contains,
    exp.Max: _text_ordered(exp.Max, "max", "this", "expressions"),
    exp.Min: _text_ordered(exp.Min, "min", "this", "expressions"),
    exp.Greatest: _text_ordered(exp.Greatest, "greatest", "this", "expressions"),
    exp.Least: _text_ordered(exp.Least, "least", "this", "expressions"),
    exp.ArgMax: _text_ordered(exp.ArgMax, "max_by", "expression"),
    exp.ArgMin: _text_ordered(exp.ArgMin, "min_by", "expression"),
    exp.CurrentCatalog: lambda gen, e: exp.Literal.string(CATALOG).sql(),
    exp.CurrentUser: _current_user,
    exp.StPoint: _no_geometry("st_point"),
    exp.StDistance: _no_geometry("st_distance"),
}

#: Trino's sketch functions (HyperLogLog, Set Digest, quantile digest, T-digest). DuckDB has
#: sketches of its own behind ``approx_count_distinct`` and ``approx_quantile``, but not these
#: types, their merging, or their varbinary forms; refusing each by name says which one.
SKETCHES = [
    "approx_set",
    "empty_approx_set",
    "merge",
    "make_set_digest",
    "merge_set_digest",
    "intersection_cardinality",
    "jaccard_index",
    "hash_counts",
    "qdigest_agg",
    "tdigest_agg",
    "value_at_quantile",
    "values_at_quantiles",
    "quantile_at_value",
]

_NO_SKETCH = "the HyperLogLog, SetDigest, QDigest and TDigest sketch types are not supported"

# ``bar`` is a DuckDB function with another meaning (a Unicode block bar); the colour
# functions would otherwise fail only as unknown names, which says less.
ANONYMOUS: dict[str, AnonHandler] = {
    **{name: _ANSI for name in ("bar", "color", "render", "rgb")},
    **{name: _refused(_NO_GEOMETRY) for name in GEOSPATIAL},
    **{name: _refused(_NO_SKETCH) for name in SKETCHES},
}

MACROS: list[str] = []
