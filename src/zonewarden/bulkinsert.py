"""Fast multi-row INSERT for the hot paths (feed intake, case opening, audit events).

`QuerySet.bulk_create` builds one SQL string with a placeholder per value and prepares every
value through its field, which costs more than the database's own work at 100,000 rows. Here the
statement is built once, only the value types the driver cannot take as they are (date-times,
JSON) are adapted, and rows go to the driver's `executemany` in batches. Fields a row does not
name get the field's default, evaluated once per call. Model `save()` hooks and signals do not
run, as with `bulk_create`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator, Sequence
from itertools import islice
from typing import Any

from django.conf import settings
from django.db import connections, models, router

from zonewarden import clock

BATCH = 5000


class EncodedJSON(str):
    """JSON text encoded already (e.g. in another process), stored as it is in a JSON column."""


def chunked(items: Sequence[Any], size: int = 2000) -> Iterator[Sequence[Any]]:
    """Slices of `items` small enough for one ``IN (…)`` list on every supported database."""
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _adapter(field: models.Field[Any, Any], connection: Any) -> Callable[[Any], Any] | None:
    ops = connection.ops
    if isinstance(field, models.DateTimeField):
        if connection.vendor == "sqlite" and settings.USE_TZ:
            return _sqlite_datetime
        return ops.adapt_datetimefield_value
    if isinstance(field, models.DateField):
        return ops.adapt_datefield_value
    if isinstance(field, models.JSONField):
        encoder = field.encoder
        if connection.vendor == "postgresql":
            from psycopg.types.json import Jsonb

            def adapt_pg(value: Any) -> Any:
                if isinstance(value, EncodedJSON):
                    return Jsonb(value, dumps=str)
                return ops.adapt_json_value(value, encoder)

            return adapt_pg
        return lambda value: (
            str(value) if isinstance(value, EncodedJSON) else ops.adapt_json_value(value, encoder)
        )
    return None


def _sqlite_datetime(value: dt.datetime) -> str:
    """What Django's SQLite backend stores for an aware date-time (naive UTC text), but quicker."""
    if value.tzinfo is None:
        raise ValueError(f"naive date-time {value} given while time zones are on")
    return str(value.astimezone(dt.UTC).replace(tzinfo=None))


def _default(field: models.Field[Any, Any]) -> Any:
    if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
        return clock.now()
    if field.has_default() or field.null or field.empty_strings_allowed:
        return field.get_default()  # the default, None, or "" for text as Django would store
    raise ValueError(f"{field.model.__name__}.{field.name} has no default: give it in every row")


def insert_rows(
    model: type[models.Model],
    fields: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    ignore_conflicts: bool = False,
    batch_size: int = BATCH,
) -> int:
    """Insert `rows` (tuples of values in the order of `fields`) into `model`'s table.

    `fields` are field names or attnames (``domain_id`` for a foreign key). Returns the number of
    rows handed to the database (with ``ignore_conflicts`` some may have been skipped).
    """
    meta = model._meta
    connection = connections[router.db_for_write(model)]
    known = {field.attname: field for field in meta.concrete_fields}
    known.update({field.name: field for field in meta.concrete_fields})
    unknown = [name for name in fields if name not in known]
    if unknown:
        raise ValueError(f"{model.__name__} has no column for {', '.join(unknown)}")
    given = [known[name] for name in fields]
    rest = [
        field
        for field in meta.concrete_fields
        if field not in given and not (field.primary_key and isinstance(field, models.AutoField))
    ]
    columns = [field.column for field in given] + [field.column for field in rest]
    adapters = [_adapter(field, connection) for field in given]
    tail = tuple(field.get_db_prep_save(_default(field), connection) for field in rest)
    quote = connection.ops.quote_name
    # Only the model's own table and column names, quoted, go into the statement; values are bound.
    names = ", ".join(quote(column) for column in columns)
    marks = ", ".join(["%s"] * len(columns))
    sql = f"INSERT INTO {quote(meta.db_table)} ({names}) VALUES ({marks})"  # noqa: S608
    if ignore_conflicts:
        sql += " ON CONFLICT DO NOTHING"
    converting = [
        (index, _Remembering(adapter)) for index, adapter in enumerate(adapters) if adapter is not None
    ]
    total = 0
    iterator = iter(rows)
    with connection.cursor() as cursor:
        while batch := list(islice(iterator, batch_size)):
            if converting:
                params = []
                for row in batch:
                    values = [*row, *tail]
                    for index, convert in converting:
                        values[index] = convert(values[index])
                    params.append(values)
                cursor.executemany(sql, params)
            else:
                cursor.executemany(sql, [(*row, *tail) for row in batch])
            total += len(batch)
    return total


class _Remembering:
    """An adapter that reuses its last result when handed the very same object again.

    Batches often share one object across rows (the time of an ingest, one source list), and
    encoding it once instead of per row is a large part of the saving.
    """

    __slots__ = ("_adapt", "_last", "_result")

    def __init__(self, adapt: Callable[[Any], Any]) -> None:
        self._adapt = adapt
        self._last: Any = None
        self._result: Any = None

    def __call__(self, value: Any) -> Any:
        if value is None:
            return None
        if value is not self._last:
            self._result = self._adapt(value)
            self._last = value
        return self._result


def select_in(
    model: type[models.Model],
    columns: Sequence[str],
    where_column: str,
    values: Sequence[Any],
    *,
    also: tuple[str, Sequence[Any]] | None = None,
) -> list[tuple[Any, ...]]:
    """Return `columns` of the rows whose `where_column` is one of `values` (and `also` holds).

    The driver's raw values come back unconverted, so ask only for text and integer columns.
    `also` is (column, allowed values). The look-up is split to fit every database's limits.
    """
    meta = model._meta
    connection = connections[router.db_for_read(model)]
    quote = connection.ops.quote_name
    known = {field.attname: field.column for field in meta.concrete_fields}
    known.update({field.name: field.column for field in meta.concrete_fields})
    wanted = ", ".join(quote(known[name]) for name in columns)
    extra_sql, extra_params = "", []
    if also is not None:
        extra_params = list(also[1])
        extra_sql = f" AND {quote(known[also[0]])} IN ({', '.join(['%s'] * len(extra_params))})"
    found: list[tuple[Any, ...]] = []
    with connection.cursor() as cursor:
        for chunk in chunked(values, 900):
            marks = ", ".join(["%s"] * len(chunk))
            sql = f"SELECT {wanted} FROM {quote(meta.db_table)} WHERE {quote(known[where_column])} IN ({marks}){extra_sql}"  # noqa: S608
            cursor.execute(sql, [*chunk, *extra_params])
            found.extend(tuple(row) for row in cursor.fetchall())
    return found
