"""Writing many rows, each with its own values, in one statement.

`QuerySet.bulk_update` builds a `CASE WHEN pk = … THEN …` expression per field and row and
resolves each through the ORM: for the 200 households of one intake batch that cost more
CPU than the INSERTs of all their people. `update_rows` sends
`UPDATE … SET … FROM (VALUES …)` instead (PostgreSQL, and SQLite ≥ 3.33), with the values
prepared exactly as `save()` prepares them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import connections, models, router

# SQLite's default limit on parameters per statement is 32,766; PostgreSQL's 65,535.
MAX_PARAMS = 30_000


def placeholder(field: Any, connection: Any) -> str:
    """A parameter for `field`'s column, typed on PostgreSQL (which infers no parameter's
    type in a SELECT list or a VALUES list)."""
    if connection.vendor != "postgresql":
        return "%s"
    return f"%s::{(field.db_type(connection) or 'text').split('(')[0]}"


def prepared(obj: models.Model, fields: Sequence[Any], connection: Any, *, add: bool) -> list[Any]:
    """The values of `fields` of `obj` as `save()` sends them (auto_now set, encrypted,
    adapted)."""
    return [f.get_db_prep_save(f.pre_save(obj, add), connection) for f in fields]


def update_rows(objs: Sequence[models.Model], fields: Sequence[str]) -> int:
    """Write `fields` of every object (all of one model, all saved) to its row; returns
    how many rows were updated. Signals are not sent, as with `bulk_update`."""
    if not objs:
        return 0
    model = type(objs[0])
    db = router.db_for_write(model)
    connection = connections[db]
    meta = model._meta
    pk = meta.pk
    assert pk is not None
    columns: list[Any] = [meta.get_field(name) for name in fields]
    if not all(isinstance(f, models.Field) and f.concrete for f in columns):
        raise ValueError(f"update_rows writes concrete fields only, not {fields}")
    quote = connection.ops.quote_name
    postgres = connection.vendor == "postgresql"
    names = ["pk", *(f"c{i}" for i in range(len(columns)))]
    row_sql = "(" + ", ".join(placeholder(f, connection) for f in [pk, *columns]) + ")"
    per_statement = max(1, MAX_PARAMS // (len(columns) + 1))
    table = quote(meta.db_table)
    if postgres:
        assignments = ", ".join(
            f"{quote(f.column)} = v.{n}" for f, n in zip(columns, names[1:], strict=True)
        )
        alias, key = f"v({', '.join(names)})", "v.pk"
    else:  # SQLite names the columns of VALUES column1, column2, …
        assignments = ", ".join(
            f"{quote(f.column)} = v.column{i + 2}" for i, f in enumerate(columns)
        )
        alias, key = "v", "v.column1"
    updated = 0
    with connection.cursor() as cursor:
        for start in range(0, len(objs), per_statement):
            chunk = objs[start : start + per_statement]
            params: list[Any] = []
            for obj in chunk:
                params.append(pk.get_db_prep_value(obj.pk, connection))
                params += prepared(obj, columns, connection, add=False)
            cursor.execute(
                f"UPDATE {table} SET {assignments} "  # noqa: S608
                f"FROM (VALUES {', '.join([row_sql] * len(chunk))}) AS {alias} "
                f"WHERE {table}.{quote(str(pk.column))} = {key}",
                params,
            )
            updated += cursor.rowcount
    return updated


def insert_rows(objs: Sequence[models.Model]) -> None:
    """INSERT new objects (all of one model) whose ids nobody needs afterwards (they are
    not set): one `COPY … FROM STDIN` on PostgreSQL, `bulk_create` elsewhere. Values are
    prepared as `save()` prepares them. For the registry's writer, where Django's
    `bulk_create` spent more CPU building the statement (values resolved field by field,
    then quoted into arrays in Python) than the database spent running it."""
    if not objs:
        return
    model = type(objs[0])
    connection = connections[router.db_for_write(model)]
    if connection.vendor != "postgresql":
        model._default_manager.bulk_create(objs)
        return
    meta = model._meta
    fields = [f for f in meta.local_concrete_fields if not f.primary_key]
    quote = connection.ops.quote_name
    sql = (
        f"COPY {quote(meta.db_table)} ({', '.join(quote(str(f.column)) for f in fields)}) "
        "FROM STDIN"
    )
    with connection.cursor() as cursor, cursor.cursor.copy(sql) as copy:
        for obj in objs:
            copy.write_row(prepared(obj, fields, connection, add=True))
