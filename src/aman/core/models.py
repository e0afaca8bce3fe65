"""Users, crises, missions, the audit log, API tokens and idempotency records."""

from __future__ import annotations

import hashlib

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _

from aman.core.append_only import AppendOnlyModel
from aman.core.roles import ROLE_CAPS, Role


class Mission(models.Model):
    class Kind(models.TextChoices):
        EMBASSY = "embassy", _("Embassy")
        CONSULATE = "consulate", _("Consulate general")
        CONSULATE_OFFICE = "consular_office", _("Consular office")

    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices, default=Kind.EMBASSY)
    country = models.ForeignKey(
        "geo.Country",
        on_delete=models.PROTECT,
        related_name="missions",
        verbose_name=_("host country"),
    )
    city = models.CharField(_("city"), max_length=200, blank=True)
    area = models.ManyToManyField(
        "geo.Country",
        related_name="covering_missions",
        verbose_name=_("countries covered"),
        help_text=_("Countries whose people and cases this mission's consuls work on."),
    )
    email = models.EmailField(_("email"), blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("mission")
        verbose_name_plural = _("missions")
        constraints = [models.UniqueConstraint(fields=["name"], name="mission_name_unique")]

    def __str__(self) -> str:
        return self.name


class Crisis(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        OPEN = "open", _("Open")
        CLOSED = "closed", _("Closed")

    name = models.CharField(_("name"), max_length=200)
    code = models.SlugField(_("code"), max_length=40, unique=True)
    description = models.TextField(_("description"), blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.DRAFT
    )
    home_country = models.ForeignKey(
        "geo.Country", on_delete=models.PROTECT, related_name="+", verbose_name=_("home country")
    )
    affected_countries = models.ManyToManyField(
        "geo.Country", related_name="crises", verbose_name=_("affected countries")
    )
    missions = models.ManyToManyField(
        Mission, related_name="crises", blank=True, verbose_name=_("missions involved")
    )
    retention_days = models.PositiveIntegerField(
        _("retention (days)"),
        default=180,
        help_text=_("Personal data is anonymised this many days after the crisis closes."),
    )
    public_registration = models.BooleanField(_("public registration open"), default=False)
    # The Ministry's hotline for this crisis, given to citizens on the public pages while
    # the crisis is open: E.164 (`core.services` normalises it), shown in international
    # format as a `tel:` link; the note is the crisis centre's plain text (hours, languages).
    hotline_phone = models.CharField(_("hotline phone"), max_length=20, blank=True)
    hotline_note = models.CharField(
        _("hotline note"),
        max_length=200,
        blank=True,
        help_text=_("Shown with the number on the public pages, e.g. 24/7."),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    created_by = models.ForeignKey(
        "core.User", on_delete=models.PROTECT, null=True, related_name="+"
    )
    opened_at = models.DateTimeField(_("opened at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("crisis")
        verbose_name_plural = _("crises")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(retention_days__gte=1) & models.Q(retention_days__lte=3650),
                name="crisis_retention_range",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def hotline_display(self) -> str:
        """The hotline number as people read it (`+7 7172 72 00 00`); empty without one."""
        from aman.registry.identity import format_international

        return format_international(self.hotline_phone) if self.hotline_phone else ""


class User(AbstractUser):
    role = models.CharField(_("role"), max_length=20, choices=Role.choices, default=Role.OBSERVER)
    mission = models.ForeignKey(
        Mission,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="staff",
        verbose_name=_("mission"),
    )
    current_crisis = models.ForeignKey(
        Crisis,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("current crisis"),
    )

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(role=Role.CONSUL) | models.Q(mission__isnull=False),
                name="user_consul_has_mission",
            ),
        ]

    def has_cap(self, cap: str) -> bool:
        if not self.is_active:
            return False
        if self.is_superuser:
            return True
        return cap in ROLE_CAPS.get(self.role, frozenset())


class AuditEntry(AppendOnlyModel):
    """One read or write of a protected object. Append-only: the model refuses updates and
    deletes, and database triggers refuse them too (migration 0003)."""

    class Action(models.TextChoices):
        CREATE = "create", _("created")
        UPDATE = "update", _("changed")
        DELETE = "delete", _("deleted")
        READ = "read", _("read")
        EXPORT = "export", _("exported")
        LOGIN = "login", _("logged in")
        LOGIN_FAILED = "login_failed", _("failed to log in")
        LOGOUT = "logout", _("logged out")

    at = models.DateTimeField(_("time"), auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    actor_name = models.CharField(_("actor"), max_length=150, blank=True)
    action = models.CharField(_("action"), max_length=20, choices=Action.choices)
    verb = models.CharField(
        _("what"), max_length=60, help_text=_("The service that acted, e.g. crisis_open.")
    )
    object_type = models.CharField(_("object type"), max_length=60, db_index=True)
    object_id = models.CharField(_("object id"), max_length=64, blank=True, db_index=True)
    object_repr = models.CharField(_("object"), max_length=200, blank=True)
    crisis = models.ForeignKey(
        Crisis, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    changes = models.JSONField(_("changes"), default=dict, blank=True)
    ip = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    via = models.CharField(_("via"), max_length=10, blank=True)

    append_only_message = "The audit log is append-only."

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit entries")
        indexes = [models.Index(fields=["object_type", "object_id", "at"])]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_name} {self.verb} {self.object_id}"


class ApiToken(models.Model):
    """A bearer token for the REST API. Only its SHA-256 is stored; the secret is shown once."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(_("name"), max_length=100)
    prefix = models.CharField(_("prefix"), max_length=12)
    digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @staticmethod
    def digest_of(secret: str) -> str:
        return hashlib.sha256(secret.encode()).hexdigest()


class IdempotencyRecord(models.Model):
    """The first response to a create request carrying an `Idempotency-Key` header."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=200)
    fingerprint = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField(help_text="0 while the request is running")
    body = models.JSONField(null=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], name="idempotency_user_key_unique")
        ]

    def __str__(self) -> str:
        return f"{self.user_id}:{self.key}"
