"""SQL front ends: Athena / Redshift dialects on sqlglot, statement routing, predicates."""
