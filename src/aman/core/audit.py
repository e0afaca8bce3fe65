"""Writing the audit log. Every service that changes something calls `audit_write` inside
its transaction; every read of a person's detail and every export calls `audit_read`."""

from __future__ import annotations

from typing import Any

from django.db import models

from aman.core.context import current_origin
from aman.core.models import AuditEntry, Crisis, User


def _value(value: Any) -> Any:
    if isinstance(value, models.Model):
        return value.pk
    if isinstance(value, list | tuple | set | frozenset):
        return sorted(_value(v) for v in value)
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


def diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list[Any]]:
    """Field → [old, new] for every field whose value changed."""
    changes: dict[str, list[Any]] = {}
    for field in sorted(set(before) | set(after)):
        old, new = _value(before.get(field)), _value(after.get(field))
        if old != new:
            changes[field] = [old, new]
    return changes


def snapshot(obj: models.Model, fields: list[str]) -> dict[str, Any]:
    """The current values of the named fields; many-to-many fields as sorted primary keys."""
    values: dict[str, Any] = {}
    for name in fields:
        field = obj._meta.get_field(name)
        if field.many_to_many:
            values[name] = sorted(getattr(obj, name).values_list("pk", flat=True)) if obj.pk else []
        else:
            values[name] = getattr(obj, getattr(field, "attname", name))
    return values


def _entry(
    *,
    actor: User | None,
    action: str,
    verb: str,
    obj: models.Model | None = None,
    object_type: str | None = None,
    object_id: Any = None,
    crisis: Crisis | None = None,
    changes: dict[str, Any] | None = None,
) -> AuditEntry:
    where = current_origin()
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = obj.pk if object_id is None else object_id
    return AuditEntry(
        actor=actor if actor is not None and actor.pk else None,
        actor_name=(actor.get_username() if actor is not None and actor.pk else "system"),
        action=action,
        verb=verb,
        object_type=object_type or "",
        object_id="" if object_id is None else str(object_id),
        object_repr=str(obj)[:200] if obj is not None else "",
        crisis=crisis,
        changes=changes or {},
        ip=where.ip,
        via=where.via,
    )


def _record(**kwargs: Any) -> AuditEntry:
    entry = _entry(**kwargs)
    entry.save()
    return entry


def audit_write(
    *,
    actor: User | None,
    verb: str,
    obj: models.Model | None = None,
    action: str = AuditEntry.Action.UPDATE,
    object_type: str | None = None,
    object_id: Any = None,
    crisis: Crisis | None = None,
    changes: dict[str, Any] | None = None,
) -> AuditEntry:
    return _record(
        actor=actor,
        action=action,
        verb=verb,
        obj=obj,
        object_type=object_type,
        object_id=object_id,
        crisis=crisis,
        changes=changes,
    )


def audit_write_many(entries: list[dict[str, Any]]) -> list[AuditEntry]:
    """Several `audit_write`s in one INSERT (for services that write many objects at once,
    such as a list of registrations); each dict holds `audit_write`'s arguments."""
    return AuditEntry.objects.bulk_create(
        [_entry(**{"action": AuditEntry.Action.UPDATE, **e}) for e in entries]
    )


def audit_read(
    *,
    actor: User | None,
    verb: str,
    obj: models.Model | None = None,
    object_type: str | None = None,
    object_id: Any = None,
    crisis: Crisis | None = None,
    export: bool = False,
    details: dict[str, Any] | None = None,
) -> AuditEntry:
    return _record(
        actor=actor,
        action=AuditEntry.Action.EXPORT if export else AuditEntry.Action.READ,
        verb=verb,
        obj=obj,
        object_type=object_type,
        object_id=object_id,
        crisis=crisis,
        changes=details,
    )
