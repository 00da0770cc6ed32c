"""The Athena-style query service: executions, workgroups, result files, cost and the
write statements (CTAS, INSERT INTO, UNLOAD)."""
