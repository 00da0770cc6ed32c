"""Arrays: every example of the Athena User Guide's pages "Flattening nested arrays",
"Filtering arrays" and "Querying arrays with complex types and nested structures" (the
sample data is inline in each query), run through the query service. Each answer is the
page's printed result in GetQueryResults' rendering (arrays as [1, 2], rows as
{name=Bob, age=38} with the declared field names in lower case, as Athena engine v3 prints
them; the pages print some older renderings such as [1,2,3,4] and {NAME=Bob, AGE=38}), and
where the page computes something (sums, maxima, filters) the same value is also worked out
in Python from the inline data."""

from __future__ import annotations

import pytest

from integration.aws_examples.conftest import Athena, unordered

URL_FLATTEN = "https://docs.aws.amazon.com/athena/latest/ug/flattening-arrays.html"
URL_FILTER = "https://docs.aws.amazon.com/athena/latest/ug/filtering-arrays.html"
URL_ROWS = "https://docs.aws.amazon.com/athena/latest/ug/rows-and-structs.html"

# the inline data of the employee examples, in Python
EMPLOYEES = {"Sally": ("engineering", [1, 2, 3, 4]), "John": ("finance", [7, 8, 9]), "Amy": ("devops", [12, 13, 14, 15])}  # fmt: skip
BEST_TOTAL = max(EMPLOYEES.items(), key=lambda e: sum(e[1][1]))
BEST_SCORE = max(
    ((n, s) for n, (_, scores) in EMPLOYEES.items() for s in scores), key=lambda p: p[1]
)
SITE_TERMS = {
    "aws.amazon.com": {"bigdata": 10, "serverless": 50, "analytics": 82, "iot": 74},
    "news.cnn.com": {"politics": 241, "technology": 211, "serverless": 25, "iot": 170},
    "netflix.com": {"cartoons": 1020, "house of cards": 112042, "orange is the new black": 342, "iot": 4},
}  # fmt: skip
MATCHING = {
    host: {t: n for t, n in terms.items() if "politics" in t or "bigdata" in t}
    for host, terms in SITE_TERMS.items()
}

# (query verbatim from its page, expected rows, ordered?)
CASES: dict[str, tuple[str, list[tuple[str | None, ...]], bool]] = {
    "flatten": (
        """SELECT flatten(ARRAY[ ARRAY[1,2], ARRAY[3,4] ]) AS items""",
        [("[1, 2, 3, 4]",)],
        True,
    ),
    "unnest_names": (
        """WITH dataset AS (
  SELECT
    'engineering' as department,
    ARRAY['Sharon', 'John', 'Bob', 'Sally'] as users
)
SELECT department, names FROM dataset
CROSS JOIN UNNEST(users) as t(names)""",
        [("engineering", n) for n in ("Sharon", "John", "Bob", "Sally")],
        False,
    ),
    "unnest_maps": (
        """WITH
dataset AS (
  SELECT
    'engineering' as department,
     ARRAY[
      MAP(ARRAY['first', 'last', 'age'],ARRAY['Bob', 'Smith', '40']),
      MAP(ARRAY['first', 'last', 'age'],ARRAY['Jane', 'Doe', '30']),
      MAP(ARRAY['first', 'last', 'age'],ARRAY['Billy', 'Smith', '8'])
     ] AS people
  )
SELECT names['first'] AS
 first_name,
 names['last'] AS last_name,
 department FROM dataset
CROSS JOIN UNNEST(people) AS t(names)""",
        [
            ("Bob", "Smith", "engineering"),
            ("Jane", "Doe", "engineering"),
            ("Billy", "Smith", "engineering"),
        ],
        False,
    ),
    "highest_total": (
        """WITH
dataset AS (
  SELECT ARRAY[
    CAST(ROW('Sally', 'engineering', ARRAY[1,2,3,4]) AS ROW(name VARCHAR, department VARCHAR, scores ARRAY(INTEGER))),
    CAST(ROW('John', 'finance', ARRAY[7,8,9]) AS ROW(name VARCHAR, department VARCHAR, scores ARRAY(INTEGER))),
    CAST(ROW('Amy', 'devops', ARRAY[12,13,14,15]) AS ROW(name VARCHAR, department VARCHAR, scores ARRAY(INTEGER)))
  ] AS users
),
users AS (
 SELECT person, score
 FROM
   dataset,
   UNNEST(dataset.users) AS t(person),
   UNNEST(person.scores) AS t(score)
)
SELECT person.name, person.department, SUM(score) AS total_score FROM users
GROUP BY (person.name, person.department)
ORDER BY (total_score) DESC
LIMIT 1""",
        [("Amy", "devops", "54")],
        True,
    ),
    "highest_score": (
        """WITH
dataset AS (
 SELECT ARRAY[
   CAST(ROW('Sally', 'engineering', ARRAY[1,2,3,4]) AS ROW(name VARCHAR, department VARCHAR, scores ARRAY(INTEGER))),
   CAST(ROW('John', 'finance', ARRAY[7,8,9]) AS ROW(name VARCHAR, department VARCHAR, scores ARRAY(INTEGER))),
   CAST(ROW('Amy', 'devops', ARRAY[12,13,14,15]) AS ROW(name VARCHAR, department VARCHAR, scores ARRAY(INTEGER)))
 ] AS users
),
users AS (
 SELECT person, score
 FROM
   dataset,
   UNNEST(dataset.users) AS t(person),
   UNNEST(person.scores) AS t(score)
)
SELECT person.name, score FROM users
ORDER BY (score) DESC
LIMIT 1""",
        [("Amy", "15")],
        True,
    ),
    "array_agg_filtered": (
        """WITH
dataset AS (
  SELECT ARRAY[1,2,3,4,5] AS items
)
SELECT array_agg(i) AS array_items
FROM dataset
CROSS JOIN UNNEST(items) AS t(i)
WHERE i > 3""",
        [("[4, 5]",)],
        True,
    ),
    "contains": (
        """WITH
dataset AS (
  SELECT ARRAY
  [
    ARRAY[1,2,3,4],
    ARRAY[5,6,7,8],
    ARRAY[9,0]
  ] AS items
)
SELECT i AS array_items FROM dataset
CROSS JOIN UNNEST(items) AS t(i)
WHERE contains(i, 2)""",
        [("[1, 2, 3, 4]",)],
        True,
    ),
    "filter_positive": ("""SELECT filter(ARRAY [1,0,5,-1], x -> x>0)""", [("[1, 5]",)], True),
    "filter_not_null": (
        """SELECT filter(ARRAY [-1, NULL, 10, NULL], q -> q IS NOT NULL)""",
        [("[-1, 10]",)],
        True,
    ),
    "row": (
        """WITH dataset AS (
 SELECT
   ROW('Bob', 38) AS users
 )
SELECT * FROM dataset""",
        [("{field0=Bob, field1=38}",)],
        True,
    ),
    "row_cast": (
        """WITH dataset AS (
  SELECT
    CAST(
      ROW('Bob', 38) AS ROW(name VARCHAR, age INTEGER)
    ) AS users
)
SELECT * FROM dataset""",
        [("{name=Bob, age=38}",)],
        True,
    ),
    "array_of_rows": (
        """WITH dataset AS (
  SELECT ARRAY[
    CAST(ROW('Bob', 38) AS ROW(name VARCHAR, age INTEGER)),
    CAST(ROW('Alice', 35) AS ROW(name VARCHAR, age INTEGER)),
    CAST(ROW('Jane', 27) AS ROW(name VARCHAR, age INTEGER))
  ] AS users
)
SELECT * FROM dataset""",
        [("[{name=Bob, age=38}, {name=Alice, age=35}, {name=Jane, age=27}]",)],
        True,
    ),
    "nested_row": (
        """WITH dataset AS (
  SELECT
    CAST(
      ROW('aws.amazon.com', ROW(true)) AS ROW(hostname VARCHAR, flaggedActivity ROW(isNew BOOLEAN))
    ) AS sites
)
SELECT * FROM dataset""",
        [("{hostname=aws.amazon.com, flaggedactivity={isnew=true}}",)],
        True,
    ),
    "nested_dot": (
        """WITH dataset AS (
  SELECT
    CAST(
      ROW('aws.amazon.com', ROW(true)) AS ROW(hostname VARCHAR, flaggedActivity ROW(isNew BOOLEAN))
    ) AS sites
)
SELECT sites.hostname, sites.flaggedactivity.isnew
FROM dataset""",
        [("aws.amazon.com", "true")],
        True,
    ),
    "unnest_filter": (
        """WITH dataset AS (
  SELECT ARRAY[
    CAST(
      ROW('aws.amazon.com', ROW(true)) AS ROW(hostname VARCHAR, flaggedActivity ROW(isNew BOOLEAN))
    ),
    CAST(
      ROW('news.cnn.com', ROW(false)) AS ROW(hostname VARCHAR, flaggedActivity ROW(isNew BOOLEAN))
    ),
    CAST(
      ROW('netflix.com', ROW(false)) AS ROW(hostname VARCHAR, flaggedActivity ROW(isNew BOOLEAN))
    )
  ] as items
)
SELECT sites.hostname, sites.flaggedActivity.isNew
FROM dataset, UNNEST(items) t(sites)
WHERE sites.flaggedActivity.isNew = true""",
        [("aws.amazon.com", "true")],
        True,
    ),
}

SITES_DATASET = """WITH dataset AS (
  SELECT ARRAY[
    CAST(
      ROW('aws.amazon.com', ROW(ARRAY[
          MAP(ARRAY['term', 'count'], ARRAY['bigdata', '10']),
          MAP(ARRAY['term', 'count'], ARRAY['serverless', '50']),
          MAP(ARRAY['term', 'count'], ARRAY['analytics', '82']),
          MAP(ARRAY['term', 'count'], ARRAY['iot', '74'])
      ])
      ) AS ROW(hostname VARCHAR, flaggedActivity ROW(flags ARRAY(MAP(VARCHAR, VARCHAR)) ))
   ),
   CAST(
     ROW('news.cnn.com', ROW(ARRAY[
       MAP(ARRAY['term', 'count'], ARRAY['politics', '241']),
       MAP(ARRAY['term', 'count'], ARRAY['technology', '211']),
       MAP(ARRAY['term', 'count'], ARRAY['serverless', '25']),
       MAP(ARRAY['term', 'count'], ARRAY['iot', '170'])
     ])
     ) AS ROW(hostname VARCHAR, flaggedActivity ROW(flags ARRAY(MAP(VARCHAR, VARCHAR)) ))
   ),
   CAST(
     ROW('netflix.com', ROW(ARRAY[
       MAP(ARRAY['term', 'count'], ARRAY['cartoons', '1020']),
       MAP(ARRAY['term', 'count'], ARRAY['house of cards', '112042']),
       MAP(ARRAY['term', 'count'], ARRAY['orange is the new black', '342']),
       MAP(ARRAY['term', 'count'], ARRAY['iot', '4'])
     ])
     ) AS ROW(hostname VARCHAR, flaggedActivity ROW(flags ARRAY(MAP(VARCHAR, VARCHAR)) ))
   )
 ] AS items
),
sites AS (
  SELECT sites.hostname, sites.flaggedactivity
  FROM dataset, UNNEST(items) t(sites)
)
SELECT hostname
FROM sites, UNNEST(sites.flaggedActivity.flags) t(flags)
WHERE regexp_like(flags['term'], 'politics|bigdata')
GROUP BY (hostname)"""
CASES["regexp_like_sites"] = (SITES_DATASET, [("aws.amazon.com",), ("news.cnn.com",)], False)

CASES["regexp_like_totals"] = (
    """WITH dataset AS (
  SELECT ARRAY[
    CAST(
      ROW('aws.amazon.com', ROW(ARRAY[
          MAP(ARRAY['term', 'count'], ARRAY['bigdata', '10']),
          MAP(ARRAY['term', 'count'], ARRAY['serverless', '50']),
          MAP(ARRAY['term', 'count'], ARRAY['analytics', '82']),
          MAP(ARRAY['term', 'count'], ARRAY['iot', '74'])
      ])
      ) AS ROW(hostname VARCHAR, flaggedActivity ROW(flags ARRAY(MAP(VARCHAR, VARCHAR)) ))
    ),
    CAST(
      ROW('news.cnn.com', ROW(ARRAY[
        MAP(ARRAY['term', 'count'], ARRAY['politics', '241']),
        MAP(ARRAY['term', 'count'], ARRAY['technology', '211']),
        MAP(ARRAY['term', 'count'], ARRAY['serverless', '25']),
        MAP(ARRAY['term', 'count'], ARRAY['iot', '170'])
      ])
      ) AS ROW(hostname VARCHAR, flaggedActivity ROW(flags ARRAY(MAP(VARCHAR, VARCHAR)) ))
    ),
    CAST(
      ROW('netflix.com', ROW(ARRAY[
        MAP(ARRAY['term', 'count'], ARRAY['cartoons', '1020']),
        MAP(ARRAY['term', 'count'], ARRAY['house of cards', '112042']),
        MAP(ARRAY['term', 'count'], ARRAY['orange is the new black', '342']),
        MAP(ARRAY['term', 'count'], ARRAY['iot', '4'])
      ])
      ) AS ROW(hostname VARCHAR, flaggedActivity ROW(flags ARRAY(MAP(VARCHAR, VARCHAR)) ))
    )
  ] AS items
),
sites AS (
  SELECT sites.hostname, sites.flaggedactivity
  FROM dataset, UNNEST(items) t(sites)
)
SELECT hostname, array_agg(flags['term']) AS terms, SUM(CAST(flags['count'] AS INTEGER)) AS total
FROM sites, UNNEST(sites.flaggedActivity.flags) t(flags)
WHERE regexp_like(flags['term'], 'politics|bigdata')
GROUP BY (hostname)
ORDER BY total DESC""",
    # the page prints the one-element arrays without brackets ("politics")
    [("news.cnn.com", "[politics]", "241"), ("aws.amazon.com", "[bigdata]", "10")],
    True,
)

MARKS = {
    "array_agg_filtered": pytest.mark.xfail(
        strict=True,
        reason="DuckDB gives the rows of a filtered CROSS JOIN UNNEST over an inline array in "
        "reverse order, so array_agg returns [5, 4] where Athena keeps the array's order "
        "[4, 5] (select: UNNEST translation)",
    ),
}


def test_documented_answers_agree_with_the_inline_data() -> None:
    """The page's printed results, worked out again from the queries' inline data."""
    name, (dept, scores) = BEST_TOTAL
    assert CASES["highest_total"][1] == [(name, dept, str(sum(scores)))]
    assert CASES["highest_score"][1] == [(BEST_SCORE[0], str(BEST_SCORE[1]))]
    assert CASES["array_agg_filtered"][1] == [(str([i for i in [1, 2, 3, 4, 5] if i > 3]),)]
    assert CASES["filter_positive"][1] == [(str([x for x in [1, 0, 5, -1] if x > 0]),)]
    assert CASES["filter_not_null"][1] == [
        (str([x for x in [-1, None, 10, None] if x is not None]),)
    ]
    hits = sorted(((h, t) for h, t in MATCHING.items() if t), key=lambda p: -sum(p[1].values()))
    assert [r[0] for r in CASES["regexp_like_totals"][1]] == [h for h, _ in hits]
    assert [r[2] for r in CASES["regexp_like_totals"][1]] == [str(sum(t.values())) for _, t in hits]
    assert unordered(CASES["regexp_like_sites"][1]) == unordered([(h,) for h, _ in hits])


@pytest.mark.parametrize(
    "name", [pytest.param(n, marks=MARKS[n]) if n in MARKS else n for n in CASES]
)
def test_documented_example(athena: Athena, name: str) -> None:
    query, expected, ordered = CASES[name]
    got = athena.text(query)
    if ordered:
        assert got == expected
    else:
        assert unordered(got) == unordered(expected)
