"""Writes for crises, missions, users and API tokens. Each is atomic and audited."""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from typing import Any

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _

from aman.core.audit import audit_write, diff, snapshot
from aman.core.errors import ApplicationError, Conflict
from aman.core.models import ApiToken, AuditEntry, Crisis, Mission, User
from aman.core.roles import Role
from aman.geo.models import Country
from aman.registry.identity import normalize_phone

CRISIS_FIELDS = [
    "name",
    "code",
    "description",
    "home_country",
    "affected_countries",
    "missions",
    "retention_days",
    "public_registration",
    "hotline_phone",
    "hotline_note",
]
MISSION_FIELDS = ["name", "kind", "country", "city", "area", "email", "phone", "active"]


def _validation_error(exc: ValidationError) -> ApplicationError:
    extra: dict[str, Any] = (
        {field: [str(m) for m in msgs] for field, msgs in exc.message_dict.items()}
        if hasattr(exc, "error_dict")
        else {"__all__": [str(m) for m in exc.messages]}
    )
    first = next(iter(extra.values()))[0] if extra else _("Invalid input.")
    return ApplicationError(first, extra)


def _full_clean(obj: Any, exclude: Iterable[str] = ()) -> None:
    try:
        obj.full_clean(exclude=list(exclude))
    except ValidationError as exc:
        raise _validation_error(exc) from exc


def _unique_crisis_code(name: str) -> str:
    base = (slugify(name) or "crisis")[:30]
    year = f"{timezone.localdate():%Y}"
    base = base if base.endswith(year) else f"{base}-{year}"
    code, n = base, 2
    while Crisis.objects.filter(code=code).exists():
        code, n = f"{base}-{n}", n + 1
    return code


def _hotline_phone(raw: str, home_country: Country) -> str:
    """The hotline number in E.164, read as the registry reads phones (libphonenumber; a
    number without a country code is one of the home country, where the Ministry's hotline
    is); empty clears it. A number that is not valid is refused: citizens would dial it."""
    raw = raw.strip()
    if not raw:
        return ""
    result = normalize_phone(raw, home_country.code)
    if not result.valid or result.e164 is None:
        message = _("Not a valid phone number: write it with its country code (+994 12 345 67 89).")
    elif result.extension:
        message = _("Give a number people can dial directly, without an extension.")
    else:
        return result.e164
    raise ApplicationError(message, {"hotline_phone": [message]})


def _check_countries(affected: list[Country]) -> None:
    if not affected:
        raise ApplicationError(
            _("Name at least one affected country."),
            {"affected_countries": [_("This field is required.")]},
        )


@transaction.atomic
def crisis_create(
    *,
    actor: User | None,
    name: str,
    home_country: Country,
    affected_countries: list[Country],
    missions: list[Mission] | None = None,
    code: str = "",
    description: str = "",
    retention_days: int = 180,
    public_registration: bool = False,
    hotline_phone: str = "",
    hotline_note: str = "",
) -> Crisis:
    _check_countries(affected_countries)
    crisis = Crisis(
        name=name.strip(),
        code=code.strip() or _unique_crisis_code(name),
        description=description,
        home_country=home_country,
        retention_days=retention_days,
        public_registration=public_registration,
        hotline_phone=_hotline_phone(hotline_phone, home_country),
        hotline_note=hotline_note.strip(),
        created_by=actor,
    )
    _full_clean(crisis, exclude=["created_by"])
    for attempt in range(5):
        try:
            with transaction.atomic():
                crisis.save()
            break
        except IntegrityError as exc:
            # Another request took the code between the check and the insert.
            if code.strip() or attempt == 4:
                raise Conflict(
                    _("A crisis with this code already exists."), {"code": [crisis.code]}
                ) from exc
            crisis.code = _unique_crisis_code(name)
    crisis.affected_countries.set(affected_countries)
    crisis.missions.set(missions or [])
    audit_write(
        actor=actor,
        verb="crisis_create",
        action=AuditEntry.Action.CREATE,
        obj=crisis,
        crisis=crisis,
        changes=diff({}, snapshot(crisis, CRISIS_FIELDS)),
    )
    return crisis


@transaction.atomic
def crisis_update(*, actor: User | None, crisis: Crisis, **fields: Any) -> Crisis:
    crisis = Crisis.objects.select_for_update().get(pk=crisis.pk)
    unknown = set(fields) - set(CRISIS_FIELDS)
    if unknown:
        raise ApplicationError(_("Unknown fields."), {"fields": sorted(unknown)})
    before = snapshot(crisis, CRISIS_FIELDS)
    m2m = {k: fields.pop(k) for k in ("affected_countries", "missions") if k in fields}
    if "affected_countries" in m2m:
        _check_countries(list(m2m["affected_countries"]))
    if crisis.status == Crisis.Status.CLOSED and fields.get("public_registration"):
        raise ApplicationError(
            _("A closed crisis cannot take public registrations."),
            {"public_registration": [_("The crisis is closed.")]},
        )
    if "hotline_phone" in fields:
        fields["hotline_phone"] = _hotline_phone(
            fields["hotline_phone"], fields.get("home_country", crisis.home_country)
        )
    for key, value in fields.items():
        setattr(crisis, key, value.strip() if isinstance(value, str) else value)
    _full_clean(crisis, exclude=["created_by"])
    crisis.save()
    for key, value in m2m.items():
        getattr(crisis, key).set(value)
    changes = diff(before, snapshot(crisis, CRISIS_FIELDS))
    if changes:
        audit_write(actor=actor, verb="crisis_update", obj=crisis, crisis=crisis, changes=changes)
    return crisis


@transaction.atomic
def crisis_open(*, actor: User | None, crisis: Crisis) -> Crisis:
    """Draft or closed → open. Reopening a closed crisis clears its closing time."""
    crisis = Crisis.objects.select_for_update().get(pk=crisis.pk)
    if crisis.status == Crisis.Status.OPEN:
        raise Conflict(_("The crisis is already open."), {"status": crisis.status})
    before = {"status": crisis.status, "opened_at": crisis.opened_at, "closed_at": crisis.closed_at}
    crisis.status = Crisis.Status.OPEN
    crisis.opened_at = crisis.opened_at or timezone.now()
    crisis.closed_at = None
    crisis.save(update_fields=["status", "opened_at", "closed_at"])
    after = {"status": crisis.status, "opened_at": crisis.opened_at, "closed_at": crisis.closed_at}
    audit_write(
        actor=actor, verb="crisis_open", obj=crisis, crisis=crisis, changes=diff(before, after)
    )
    return crisis


@transaction.atomic
def crisis_close(*, actor: User | None, crisis: Crisis) -> Crisis:
    """Open → closed. Public registration stops; the retention period starts counting."""
    crisis = Crisis.objects.select_for_update().get(pk=crisis.pk)
    if crisis.status != Crisis.Status.OPEN:
        raise Conflict(_("Only an open crisis can be closed."), {"status": crisis.status})
    before = {
        "status": crisis.status,
        "closed_at": None,
        "public_registration": crisis.public_registration,
    }
    crisis.status = Crisis.Status.CLOSED
    crisis.closed_at = timezone.now()
    crisis.public_registration = False
    crisis.save(update_fields=["status", "closed_at", "public_registration"])
    after = {
        "status": crisis.status,
        "closed_at": crisis.closed_at,
        "public_registration": crisis.public_registration,
    }
    audit_write(
        actor=actor, verb="crisis_close", obj=crisis, crisis=crisis, changes=diff(before, after)
    )
    return crisis


@transaction.atomic
def mission_create(
    *,
    actor: User | None,
    name: str,
    country: Country,
    area: list[Country] | None = None,
    kind: str = Mission.Kind.EMBASSY,
    city: str = "",
    email: str = "",
    phone: str = "",
    active: bool = True,
) -> Mission:
    mission = Mission(
        name=name.strip(),
        kind=kind,
        country=country,
        city=city.strip(),
        email=email,
        phone=phone,
        active=active,
    )
    _full_clean(mission)
    try:
        with transaction.atomic():
            mission.save()
    except IntegrityError as exc:
        raise Conflict(
            _("A mission with this name already exists."), {"name": [mission.name]}
        ) from exc
    mission.area.set(area if area else [country])
    audit_write(
        actor=actor,
        verb="mission_create",
        action=AuditEntry.Action.CREATE,
        obj=mission,
        changes=diff({}, snapshot(mission, MISSION_FIELDS)),
    )
    return mission


@transaction.atomic
def mission_update(*, actor: User | None, mission: Mission, **fields: Any) -> Mission:
    mission = Mission.objects.select_for_update().get(pk=mission.pk)
    unknown = set(fields) - set(MISSION_FIELDS)
    if unknown:
        raise ApplicationError(_("Unknown fields."), {"fields": sorted(unknown)})
    before = snapshot(mission, MISSION_FIELDS)
    area = fields.pop("area", None)
    if area is not None and not list(area):
        raise ApplicationError(
            _("A mission covers at least one country."), {"area": [_("This field is required.")]}
        )
    for key, value in fields.items():
        setattr(mission, key, value.strip() if isinstance(value, str) else value)
    _full_clean(mission)
    mission.save()
    if area is not None:
        mission.area.set(area)
    changes = diff(before, snapshot(mission, MISSION_FIELDS))
    if changes:
        audit_write(actor=actor, verb="mission_update", obj=mission, changes=changes)
    return mission


@transaction.atomic
def user_create(
    *,
    actor: User | None,
    username: str,
    role: str,
    password: str,
    mission: Mission | None = None,
    email: str = "",
    first_name: str = "",
    last_name: str = "",
    is_superuser: bool = False,
) -> User:
    if role not in Role.values:
        raise ApplicationError(
            _("Unknown role."), {"role": [_("Choose one of: %s") % ", ".join(Role.values)]}
        )
    if role == Role.CONSUL and mission is None:
        raise ApplicationError(
            _("A consul belongs to a mission."), {"mission": [_("This field is required.")]}
        )
    user = User(
        username=username.strip(),
        role=role,
        mission=mission,
        email=email,
        first_name=first_name,
        last_name=last_name,
        is_superuser=is_superuser,
        is_staff=is_superuser,
    )
    _check_password(password, user)
    user.set_password(password)
    _full_clean(user)
    try:
        with transaction.atomic():
            user.save()
    except IntegrityError as exc:
        raise Conflict(
            _("A user with that username already exists."), {"username": [username]}
        ) from exc
    audit_write(
        actor=actor,
        verb="user_create",
        action=AuditEntry.Action.CREATE,
        obj=user,
        changes=diff(
            {},
            {
                "username": user.username,
                "role": user.role,
                "mission": user.mission_id,
                "is_superuser": user.is_superuser,
            },
        ),
    )
    return user


def _check_password(password: str, user: User) -> None:
    try:
        validate_password(password, user)
    except ValidationError as exc:
        raise ApplicationError(
            _("The password is too weak."), {"password": [str(m) for m in exc.messages]}
        ) from exc


@transaction.atomic
def user_set_password(*, actor: User | None, user: User, password: str) -> User:
    _check_password(password, user)
    user.set_password(password)
    user.save(update_fields=["password"])
    audit_write(actor=actor, verb="user_set_password", obj=user, changes={"password": ["…", "…"]})
    return user


@transaction.atomic
def user_set_current_crisis(*, actor: User, crisis: Crisis | None) -> User:
    before = actor.current_crisis_id
    actor.current_crisis = crisis
    actor.save(update_fields=["current_crisis"])
    audit_write(
        actor=actor,
        verb="user_set_current_crisis",
        obj=actor,
        crisis=crisis,
        changes=diff({"current_crisis": before}, {"current_crisis": actor.current_crisis_id}),
    )
    return actor


@transaction.atomic
def api_token_create(*, actor: User, name: str) -> tuple[ApiToken, str]:
    """A new token for the actor. Returns the token and its secret, which is not stored."""
    name = name.strip()
    if not name:
        raise ApplicationError(
            _("Give the token a name."), {"name": [_("This field is required.")]}
        )
    secret = "aman_" + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=actor, name=name[:100], prefix=secret[:12], digest=ApiToken.digest_of(secret)
    )
    audit_write(
        actor=actor,
        verb="api_token_create",
        action=AuditEntry.Action.CREATE,
        obj=token,
        changes={"name": [None, token.name], "prefix": [None, token.prefix]},
    )
    return token, secret


@transaction.atomic
def api_token_revoke(*, actor: User, token: ApiToken) -> ApiToken:
    token = ApiToken.objects.select_for_update().get(pk=token.pk)
    if token.revoked_at is not None:
        raise Conflict(_("The token is already revoked."))
    token.revoked_at = timezone.now()
    token.save(update_fields=["revoked_at"])
    audit_write(
        actor=actor,
        verb="api_token_revoke",
        obj=token,
        changes={"revoked_at": [None, token.revoked_at.isoformat()]},
    )
    return token
