"""The audit log: who changed what and when (every service records here; `by=None` is a system job)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.utils.translation import gettext as _

from operator_console.platform_time import format_moment

from ..models import (
    AuditEvent,
    OfficialAccount,
)

AUDIT_VALUE_MAX = 100


def record_event(obj, *, by, verb: AuditEvent.Verb, account: OfficialAccount | None = None, note: str = "") -> AuditEvent:
    """Append one row to the audit log; `by=None` records that a system job acted.

    `verb` is an AuditEvent.Verb (a value not in it raises ValueError: verbs are not free text).
    """
    return AuditEvent.objects.create(
        by=by,
        verb=AuditEvent.Verb(verb),
        account=account if account is not None else getattr(obj, "account", None),
        object_type=obj._meta.model_name,
        object_id=obj.pk,
        note=note,
    )


def _shown(field: models.Field | None, value: Any) -> str:
    """A field's value as a person reads it in the audit log: choice labels, related objects by name."""
    if value is None or value == "" or (isinstance(value, Iterable) and not isinstance(value, str) and not value):
        return "—"
    if field is not None and field.many_to_many:
        return ", ".join(sorted(str(v) for v in value))
    if field is not None and field.is_relation and not isinstance(value, models.Model):
        value = field.related_model._default_manager.filter(pk=value).first() or f"#{value}"
    elif field is not None and field.choices:
        value = dict(field.flatchoices).get(value, value)
    if isinstance(value, bool):
        value = _("yes") if value else _("no")
    elif isinstance(value, datetime):
        value = format_moment(value)
    text = str(value)
    return text if len(text) <= AUDIT_VALUE_MAX else text[: AUDIT_VALUE_MAX - 1] + "…"


def describe_changes(model: type[models.Model], changes: Iterable[tuple[str, Any, Any]], *, created: bool = False) -> str:
    """“name: old → new; kind: …” for (field name, old, new) triples; only the new values when `created`."""
    parts = []
    for name, old, new in changes:
        try:
            field = model._meta.get_field(name)
        except FieldDoesNotExist:
            field = None
        label = field.verbose_name if field is not None else name
        shown = _shown(field, new) if created else f"{_shown(field, old)} → {_shown(field, new)}"
        parts.append(f"{label}: {shown}")
    return "; ".join(parts)


def record_change(obj: models.Model, *, by, verb: AuditEvent.Verb, changes: Iterable[tuple[str, Any, Any]] = ()) -> AuditEvent:
    """Audit a change made by hand (the admin's forms): `changes` are (field name, old value, new value);
    a created object lists its values, a deleted one is named. The account is the object's own, or itself."""
    account = obj if isinstance(obj, OfficialAccount) else getattr(obj, "account", None)
    if verb == AuditEvent.Verb.DELETED:
        note = f"“{_shown(None, obj)}”"
    else:
        note = describe_changes(type(obj), changes, created=verb == AuditEvent.Verb.CREATED)
    return record_event(obj, by=by, verb=verb, account=account, note=note)


