"""lakebox's ``awsglue``: the documented subset of AWS Glue's PySpark library that a
``glueetl`` job's script imports, running on lakebox's Spark engine against the lake's
catalog (docs/scale-out.md, "Glue ETL jobs")."""

from awsglue.dynamicframe import DynamicFrame, DynamicFrameCollection

__all__ = ["DynamicFrame", "DynamicFrameCollection"]
