"""The registry: people, households, intake records exactly as received, and each
person's journey of status events.

Document numbers, national identification numbers, phone numbers and messenger handles
are encrypted at rest (aman.core.crypto) and found through keyed hashes; names are kept in
the script they were given in and in passport Latin, with matching keys for search.
"""

from __future__ import annotations

from datetime import date

from django.db import models
from django.utils.translation import gettext_lazy as _

from aman.core.append_only import AppendOnlyModel
from aman.core.crypto import EncryptedJSONField, EncryptedTextField
from aman.registry.statuses import Status


class Sex(models.TextChoices):
    FEMALE = "F", _("Female")
    MALE = "M", _("Male")
    OTHER = "X", _("Other or unspecified")


class Intent(models.TextChoices):
    LEAVE = "leave", _("Wants to leave")
    STAY = "stay", _("Staying")
    UNDECIDED = "undecided", _("Undecided")


class Eligibility(models.TextChoices):
    CITIZEN = "citizen", _("Citizen")
    FAMILY_MEMBER = "family_member", _("Family member of a citizen")
    PARTNER_NATIONAL = "partner_national", _("Partner-state national")


class Language(models.TextChoices):
    KK = "kk", _("Kazakh")
    RU = "ru", _("Russian")
    EN = "en", _("English")


class Channel(models.TextChoices):
    PUBLIC_WEB = "public_web", _("Public registration form")
    HOTLINE = "hotline", _("Hotline")
    IMPORT = "import", _("Imported list")
    API = "api", _("API")
    PARTNER = "partner", _("Partner ministry")
    OFFICER = "officer", _("Officer's correction")


class Household(models.Model):
    crisis = models.ForeignKey("core.Crisis", on_delete=models.PROTECT, related_name="households")
    contact = models.ForeignKey(
        "registry.Person",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("contact person"),
    )
    priority = models.PositiveSmallIntegerField(_("priority"), default=0, db_index=True)
    # The earliest moment the household can set out (discharged from hospital, back from
    # another city): the planner plans nothing for it before then. Empty: at once.
    available_from = models.DateTimeField(_("available from"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("household")
        verbose_name_plural = _("households")

    def __str__(self) -> str:
        return f"H{self.pk}"


def reference_code_display(code: str) -> str:
    """A reference code as people read and type it: `K7M2-QX9P`."""
    return f"{code[:4]}-{code[4:]}"


def messengers_text(handles: dict[str, str]) -> str:
    """Messenger handles as stored in `Person.messengers`: `telegram:@x whatsapp:+7701…`,
    each handle one word (`registry.schemas.messenger_handles`)."""
    return " ".join(f"{name}:{handle}" for name, handle in handles.items())


class PersonManager(models.Manager["Person"]):
    """The people of the registry: a person merged into another (a duplicate) is kept for
    the undo and for their reference code, but is no longer one of the people."""

    def get_queryset(self) -> models.QuerySet[Person]:
        return super().get_queryset().filter(merged_into__isnull=True)


class Person(models.Model):
    crisis = models.ForeignKey("core.Crisis", on_delete=models.PROTECT, related_name="people")
    reference_code = models.CharField(_("reference code"), max_length=12, unique=True)
    household = models.ForeignKey(
        Household, on_delete=models.SET_NULL, null=True, blank=True, related_name="members"
    )
    # Names as given (any script) and as printed in the passport (never regenerated from
    # Cyrillic when a document says otherwise: `latin_from_document`).
    surname = models.CharField(_("surname"), max_length=100)
    given_names = models.CharField(_("given names"), max_length=150)
    patronymic = models.CharField(_("patronymic"), max_length=100, blank=True)
    surname_latin = models.CharField(_("surname (passport Latin)"), max_length=100, blank=True)
    given_names_latin = models.CharField(
        _("given names (passport Latin)"), max_length=150, blank=True
    )
    # The Latin names were given (a document's, or typed as printed in the passport), not
    # transliterated: a change of the native names leaves them as they are.
    latin_from_document = models.BooleanField(default=False)
    birth_date = models.DateField(_("birth date"), null=True, blank=True)
    sex = models.CharField(_("sex"), max_length=1, choices=Sex.choices, blank=True)
    nationalities = models.JSONField(_("nationalities"), default=list, blank=True)
    iin = EncryptedTextField(_("national identification number"), blank=True)
    iin_hash = models.CharField(max_length=64, blank=True, db_index=True, editable=False)
    email = models.EmailField(_("email"), blank=True)
    messengers = EncryptedTextField(_("messenger handles"), blank=True)
    language = models.CharField(
        _("preferred language"), max_length=2, choices=Language.choices, default=Language.KK
    )
    pregnant = models.BooleanField(_("pregnant"), default=False)
    medical_need = models.BooleanField(_("medical need"), default=False)
    reduced_mobility = models.BooleanField(_("reduced mobility"), default=False)
    disability = models.BooleanField(_("disability"), default=False)
    unaccompanied_minor = models.BooleanField(_("unaccompanied minor"), default=False)
    needs_note = models.TextField(_("needs (details)"), blank=True, max_length=2000)
    consent_at = models.DateTimeField(_("consent given at"), null=True, blank=True)
    country = models.ForeignKey(
        "geo.Country",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("country where the person is"),
    )
    city = models.ForeignKey(
        "geo.Place",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("city"),
    )
    address = models.CharField(_("address or place"), max_length=300, blank=True)
    latitude = models.FloatField(_("latitude"), null=True, blank=True)
    longitude = models.FloatField(_("longitude"), null=True, blank=True)
    location_updated_at = models.DateTimeField(_("location updated at"), null=True, blank=True)
    intent = models.CharField(
        _("intent"), max_length=10, choices=Intent.choices, default=Intent.LEAVE
    )
    eligibility = models.CharField(
        _("eligibility"), max_length=20, choices=Eligibility.choices, default=Eligibility.CITIZEN
    )
    # The latest status event, kept by `person_set_status` (and its step `person_status_step`,
    # inside other services' transactions) for filters.
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.REGISTERED
    )
    priority = models.PositiveSmallIntegerField(_("priority"), default=0, db_index=True)
    priority_reasons = models.JSONField(default=list, blank=True)
    channel = models.CharField(_("first channel"), max_length=12, choices=Channel.choices)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)
    # Set when an officer merged this record into another (aman.dedup.merging); undone by
    # an unmerge. Its intake records, documents, phones and journey moved to that person.
    merged_into = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="+", editable=False
    )

    objects = PersonManager()
    all_objects = models.Manager()  # noqa: DJ012

    class Meta:
        base_manager_name = "all_objects"
        ordering = ["surname", "given_names", "id"]
        verbose_name = _("person")
        verbose_name_plural = _("people")
        indexes = [
            models.Index(fields=["crisis", "status"]),
            models.Index(fields=["crisis", "country"]),
            # The duplicate check at intake: people born the same day (about 50 a day at a
            # million people).
            models.Index(fields=["crisis", "birth_date"], name="person_birth_date"),
            # The lists' order (highest priority first): a page of a search that matches
            # many people walks this index instead of sorting every match.
            models.Index(fields=["crisis", "-priority", "surname", "id"], name="person_list_order"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(latitude__isnull=True)
                | (models.Q(latitude__gte=-90) & models.Q(latitude__lte=90)),
                name="person_latitude_range",
            ),
            models.CheckConstraint(
                condition=models.Q(longitude__isnull=True)
                | (models.Q(longitude__gte=-180) & models.Q(longitude__lte=180)),
                name="person_longitude_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.surname} {self.given_names}".strip()

    @property
    def reference_code_display(self) -> str:
        return reference_code_display(self.reference_code)

    @property
    def messenger_handles(self) -> dict[str, str]:
        """The handles as {messenger: handle} (stored by `messengers_text`). Handles with
        spaces, stored before they were refused (`whatsapp:+7 701 123 45 67`), are read
        whole: a word without a messenger's name continues the handle before it (or, first,
        is a handle of messenger `other`)."""
        out: dict[str, str] = {}
        last = ""
        for item in self.messengers.split():
            name, sep, handle = item.partition(":")
            if sep and name.isalnum():
                out[name] = handle
                last = name
            elif last:
                out[last] = f"{out[last]} {item}"
            else:
                last = "other"
                out[last] = item
        return out

    def age_on(self, day: date) -> int | None:
        if self.birth_date is None:
            return None
        b = self.birth_date
        return day.year - b.year - ((day.month, day.day) < (b.month, b.day))


class NameKey(models.Model):
    """One matching key of one of a person's names (aman.registry.identity.translit), so
    that `Нұрлан`, `NURLAN` and `Nurlan` find the same people through one index."""

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="name_keys")
    crisis = models.ForeignKey(
        "core.Crisis", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    key = models.CharField(max_length=60)

    class Meta:
        # A name search reads a range of keys (a prefix) and only the person ids: the
        # whole search is answered from this index.
        indexes = [models.Index(fields=["crisis", "key", "person"], name="namekey_search")]
        constraints = [
            models.UniqueConstraint(fields=["person", "key"], name="namekey_person_key_unique")
        ]

    def __str__(self) -> str:
        return self.key


class NamePair(models.Model):
    """Two of a person's name keys joined (`identity.name_key_pairs`: `ahmetov0erlan` and
    `erlan0ahmetov`), every pair in both orders, so that a search for two words reads one
    index range of the people who match both instead of intersecting two ranges of tens of
    thousands. Always the pairs of the person's `NameKey` rows (`services._write_name_pairs`)."""

    # The unique (person, key) index serves lookups by person.
    person = models.ForeignKey(
        Person, on_delete=models.CASCADE, related_name="name_pairs", db_index=False
    )
    crisis = models.ForeignKey(
        "core.Crisis", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    key = models.CharField(max_length=121)

    class Meta:
        indexes = [models.Index(fields=["crisis", "key", "person"], name="namepair_search")]
        constraints = [
            models.UniqueConstraint(fields=["person", "key"], name="namepair_person_key_unique")
        ]

    def __str__(self) -> str:
        return self.key


class Document(models.Model):
    class Kind(models.TextChoices):
        PASSPORT = "passport", _("Passport")
        ID_CARD = "id_card", _("Identity card")
        RETURN_CERTIFICATE = "return_certificate", _("Certificate of return")
        OTHER = "other", _("Other document")

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="documents")
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices, default=Kind.PASSPORT)
    number = EncryptedTextField(_("number"))
    number_hash = models.CharField(max_length=64, db_index=True, editable=False)
    issuing_state = models.CharField(_("issuing state"), max_length=3, blank=True)
    expiry_date = models.DateField(_("expiry date"), null=True, blank=True)
    surname_latin = models.CharField(_("surname as printed"), max_length=100, blank=True)
    given_names_latin = models.CharField(_("given names as printed"), max_length=150, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("document")
        verbose_name_plural = _("documents")

    def __str__(self) -> str:
        return f"{self.get_kind_display()} …{self.number[-3:]}"


class Phone(models.Model):
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="phones")
    number = EncryptedTextField(_("number"), help_text=_("E.164 when valid, else as typed."))
    number_hash = models.CharField(max_length=64, db_index=True, editable=False)
    valid = models.BooleanField(_("valid number"), default=True)

    class Meta:
        verbose_name = _("phone")
        verbose_name_plural = _("phones")

    def __str__(self) -> str:
        return f"…{self.number[-4:]}"


class IntakeRecord(models.Model):
    """One submission exactly as received. Its payload never changes and no interface
    deletes it; a queued submission (pending) gets its outcome, household and people once,
    when it is registered."""

    class Outcome(models.TextChoices):
        PENDING = "pending", _("Received, being registered")
        ACCEPTED = "accepted", _("Accepted")
        REJECTED = "rejected", _("Rejected")

    crisis = models.ForeignKey("core.Crisis", on_delete=models.PROTECT, related_name="+")
    channel = models.CharField(_("channel"), max_length=12, choices=Channel.choices)
    kind = models.CharField(
        _("kind"),
        max_length=20,
        default="registration",
        help_text=_("registration, or the update that was submitted (location, contacts, …)"),
    )
    payload = EncryptedJSONField(_("payload as received"))
    received_at = models.DateTimeField(_("received at"), auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        "core.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    source = models.CharField(_("source"), max_length=100, blank=True)
    source_ref = models.CharField(_("source reference"), max_length=200, blank=True)
    idempotency_key = models.CharField(max_length=200, blank=True)
    household = models.ForeignKey(
        Household, on_delete=models.SET_NULL, null=True, blank=True, related_name="intake_records"
    )
    people = models.ManyToManyField(Person, related_name="intake_records", blank=True)
    batch = models.ForeignKey(
        "registry.ImportBatch",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="records",
    )
    row_number = models.PositiveIntegerField(null=True, blank=True)
    # An import's household of several rows: each member's own reference in the list and
    # its row, in the order of the payload's members ([[source_ref, row_number], …]), so
    # that the clusters can be checked against the list's own identifiers
    # (`aman dedup export`); `source_ref` and `row_number` are the first member's.
    member_refs = models.JSONField(default=list, blank=True)
    outcome = models.CharField(
        _("outcome"), max_length=10, choices=Outcome.choices, default=Outcome.ACCEPTED
    )
    rejection_reasons = models.JSONField(default=dict, blank=True)
    # The country the submission is about (where its people are): the registered household's,
    # else the one its payload names, an import's country, a person's for their update. It
    # scopes what a consul sees of records that matched nobody (`intake_records_for_user`);
    # none when the payload names no known country (and while a queued one waits).
    country = models.ForeignKey(
        "geo.Country",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("country"),
    )
    # A submission taken in a queue (pending) gets its members' reference codes at once,
    # in the order of its members; the people created from it later carry them.
    reference_codes = models.JSONField(default=list, blank=True)
    # The rejected submission this one corrects (an officer sent it again, corrected, from
    # the rejected record's page or with the API's `?corrects=`): the rejected one then
    # lists what became of it, and the list of submissions tells those still to correct.
    corrects = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="corrections",
        verbose_name=_("corrects"),
    )

    class Meta:
        ordering = ["-received_at", "-id"]
        verbose_name = _("intake record")
        verbose_name_plural = _("intake records")
        indexes = [
            models.Index(
                fields=["id"],
                condition=models.Q(outcome="pending"),
                name="intake_pending",
            ),
            # The list of intake records: a crisis's, newest first, by outcome.
            models.Index(fields=["crisis", "outcome", "-received_at"], name="intake_list"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["crisis", "channel", "idempotency_key"],
                condition=~models.Q(idempotency_key=""),
                name="intake_idempotency_unique",
            )
        ]

    def __str__(self) -> str:
        return f"{self.channel} {self.received_at:%Y-%m-%d %H:%M}"


class ReservedCode(models.Model):
    """A reference code reserved for a member of a queued submission, as found in its
    record's `reference_codes`: how the status page finds, by the code a citizen typed,
    a registration still in the queue or refused by the background run, whose codes are
    no person's. A JSON list has no index that works on both SQLite and PostgreSQL; this
    table is that index. A row is written with its record (`_insert_with_free_codes`) and
    never changed: a code drawn again because a person took it meanwhile leaves its row
    pointing to a record then accepted — the status page reads only pending and refused
    records, and the code where their `reference_codes` have it."""

    code = models.CharField(max_length=12)
    record = models.ForeignKey(IntakeRecord, on_delete=models.CASCADE, related_name="+")

    class Meta:
        # One plain index (`db_index` would add a second, for LIKE, on PostgreSQL): a code
        # is only ever looked up whole, and every queued registration writes these rows.
        indexes = [models.Index(fields=["code"], name="reserved_code")]

    def __str__(self) -> str:
        return self.code


class StatusEvent(AppendOnlyModel):
    """Append-only journey of a person; `Person.status` follows the latest event. The model
    and the database refuse changes (core/append_only.py, migration 0010)."""

    append_only_message = "A person's journey is append-only."

    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="status_events")
    status = models.CharField(_("status"), max_length=20, choices=Status.choices)
    previous = models.CharField(_("previous status"), max_length=20, blank=True)
    at = models.DateTimeField(_("time"), auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        "core.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    note = models.CharField(_("note"), max_length=500, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = _("status event")
        verbose_name_plural = _("status events")

    def __str__(self) -> str:
        return f"{self.person_id}: {self.status}"


class PriorityPolicy(models.Model):
    """How a crisis ranks people: groups with weights, or strict order of groups."""

    class Mode(models.TextChoices):
        WEIGHTS = "weights", _("Weights: a person's priority is the sum of their groups' weights")
        STRICT = "strict", _("Strict: a person's priority is their highest group's rank")

    crisis = models.OneToOneField(
        "core.Crisis", on_delete=models.CASCADE, related_name="priority_policy"
    )
    mode = models.CharField(_("mode"), max_length=10, choices=Mode.choices, default=Mode.WEIGHTS)
    rules = models.JSONField(_("groups and weights"))
    updated_at = models.DateTimeField(auto_now=True)
    # Everyone's priority is recomputed in the background after a change, batch by batch:
    # the run of the latest change (an older run stops when it sees a newer one), people
    # done of about how many, how many changed, and when it ended (None while it runs).
    recompute_run = models.PositiveIntegerField(default=0)
    recompute_total = models.PositiveIntegerField(default=0)
    recompute_done = models.PositiveIntegerField(default=0)
    recompute_changed = models.PositiveIntegerField(default=0)
    recomputed_at = models.DateTimeField(null=True, blank=True)
    recompute_error = models.TextField(blank=True)  # why the last run stopped, if it failed

    class Meta:
        verbose_name = _("priority policy")
        verbose_name_plural = _("priority policies")

    def __str__(self) -> str:
        return f"{self.crisis_id}: {self.mode}"


class ImportSource(models.Model):
    """A list's origin (a tour operator, an embassy, an employer) and its saved column
    mapping, reused the next time the same source sends a list."""

    class Kind(models.TextChoices):
        TOUR_OPERATOR = "tour_operator", _("Tour operator")
        EMBASSY = "embassy", _("Embassy or consulate")
        EMPLOYER = "employer", _("Employer")
        OTHER = "other", _("Other")

    name = models.CharField(_("name"), max_length=100, unique=True)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices, default=Kind.OTHER)
    mapping = models.JSONField(_("column mapping"), default=dict, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("import source")
        verbose_name_plural = _("import sources")

    def __str__(self) -> str:
        return self.name


class ImportBatch(models.Model):
    """One uploaded list and its run. The file is kept encrypted until the run ends."""

    class Status(models.TextChoices):
        UPLOADED = "uploaded", _("Uploaded, waiting for the column mapping")
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Importing")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    crisis = models.ForeignKey("core.Crisis", on_delete=models.PROTECT, related_name="+")
    source = models.ForeignKey(ImportSource, on_delete=models.PROTECT, related_name="batches")
    file_name = models.CharField(_("file"), max_length=255)
    file_sha256 = models.CharField(max_length=64, db_index=True)
    content = EncryptedTextField(blank=True, help_text="the uploaded file, base64, encrypted")
    country = models.ForeignKey(
        "geo.Country",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("country the people are in"),
    )
    mapping = models.JSONField(_("column mapping"), default=dict, blank=True)
    # The list's column names in the file's order: the rejected rows' download gives them
    # in that order, so that it reads as the list did.
    columns = models.JSONField(default=list, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.UPLOADED
    )
    total_rows = models.PositiveIntegerField(default=0)
    processed_rows = models.PositiveIntegerField(default=0)
    accepted_rows = models.PositiveIntegerField(default=0)
    rejected_rows = models.PositiveIntegerField(default=0)
    repeated_rows = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    created_by = models.ForeignKey(
        "core.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("import")
        verbose_name_plural = _("imports")

    def __str__(self) -> str:
        return f"{self.source} · {self.file_name}"

    @property
    def progress(self) -> int:
        return int(100 * self.processed_rows / self.total_rows) if self.total_rows else 0
