"""SQL expressions the features share."""

from __future__ import annotations

from sqlalchemy import ColumnElement
from sqlalchemy import func
from sqlalchemy import literal_column


def joined_strings(expression: ColumnElement[str], separator: str) -> ColumnElement[str]:
    """The strings `expression` takes in a group, joined by `separator` (SQLite's
    group_concat, PostgreSQL's string_agg).

    The separator is written into the SQL text. Given as a value, SQLAlchemy sends it as a
    "literal execute" parameter, and renders the statement's SQL again at every execution
    with it: a card took 430 µs in-process that way, 385 µs this way (its statement had
    four).
    """
    if "'" in separator or "\\" in separator:
        raise ValueError("the separator is written into SQL: no quotes or backslashes")
    return func.aggregate_strings(expression, literal_column(f"'{separator}'"))
