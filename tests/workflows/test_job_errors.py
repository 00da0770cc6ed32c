"""A failed job script's ErrorMessage (``jobs.failure_line``): the exception, never a line
of a JVM's stack trace. The stderr texts are the shapes Python and PySpark print."""

from __future__ import annotations

import pytest

from lakebox.workflows.jobs import failure_line

PY4J = """Traceback (most recent call last):
  File "/tmp/etl.py", line 18, in <module>
    glueContext.write_dynamic_frame.from_options(
  File "/venv/lib/python3.11/site-packages/py4j/protocol.py", line 327, in get_return_value
    raise Py4JJavaError(
py4j.protocol.Py4JJavaError: An error occurred while calling o86.save.
: org.apache.hadoop.fs.UnsupportedFileSystemException: No FileSystem for scheme "s3"
\tat org.apache.hadoop.fs.FileSystem.getFileSystemClass(FileSystem.java:3443)
\tat org.apache.spark.sql.DataFrameWriter.save(DataFrameWriter.scala:251)
\tat java.base/java.lang.Thread.run(Thread.java:840)
Caused by: java.io.IOException: boom
\tat x.y.Z.run(Z.java:1)
\t... 12 more

"""

ANALYSIS = """WARNING: Using incubator modules: jdk.incubator.vector
Traceback (most recent call last):
  File "/tmp/etl.py", line 9, in <module>
    spark.read.parquet("/nowhere")
pyspark.errors.exceptions.captured.AnalysisException: [PATH_NOT_FOUND] Path does not exist: file:/nowhere.
"""


@pytest.mark.parametrize(
    ("stderr", "expected"),
    [
        (
            PY4J,
            'org.apache.hadoop.fs.UnsupportedFileSystemException: No FileSystem for scheme "s3"',
        ),
        (
            ANALYSIS,
            "pyspark.errors.exceptions.captured.AnalysisException: [PATH_NOT_FOUND] Path does "
            "not exist: file:/nowhere.",
        ),
        ("Traceback (most recent call last):\nValueError: bad input\n", "ValueError: bad input"),
        ("\tat a.b.C.d(C.java:1)\n\t... 3 more\n", None),
        ("", None),
    ],
)
def test_the_error_message_is_the_exception(stderr: str, expected: str | None) -> None:
    assert failure_line(stderr) == expected
