"""Possible duplicates: two people of a crisis who may be one person."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from aman.core.crypto import EncryptedJSONField

# What made two records look like one person, strongest first, in words for officers.
EVIDENCE = {
    "iin": _("the same IIN"),
    "document": _("the same document number"),
    "name_birth_date": _("the same names and birth date"),
    "name_approx_birth_date": _("the same names and nearly the same birth date"),
    "names": _("the same names (no birth date to compare)"),
    "phone": _("the same phone number and given name"),
}


class CandidatePair(models.Model):
    """Two people who may be one, found when the second was registered (or, later, by a
    batch linkage run); an officer decides. `person_a` is the one registered first."""

    class Status(models.TextChoices):
        OPEN = "open", _("To review")
        DEFERRED = "deferred", _("Later")
        REJECTED = "rejected", _("Not the same person")
        MERGED = "merged", _("Merged")

    class FoundBy(models.TextChoices):
        INTAKE = "intake", _("at registration")
        BATCH = "batch", _("batch linkage")

    crisis = models.ForeignKey("core.Crisis", on_delete=models.CASCADE, related_name="+")
    person_a = models.ForeignKey("registry.Person", on_delete=models.CASCADE, related_name="+")
    person_b = models.ForeignKey("registry.Person", on_delete=models.CASCADE, related_name="+")
    score = models.PositiveSmallIntegerField(_("strength"), help_text=_("0–100"))
    evidence = models.JSONField(_("evidence"), default=list)
    found_by = models.CharField(max_length=10, choices=FoundBy.choices, default=FoundBy.INTAKE)
    intake_record = models.ForeignKey(
        "registry.IntakeRecord", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.OPEN
    )
    # From a batch linkage run: the model's match weight (log2 of the odds the evidence
    # gives), each comparison's level and partial weight, and the cluster it belongs to.
    run = models.ForeignKey(
        "dedup.LinkageRun", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    match_weight = models.FloatField(_("match weight"), null=True, blank=True)
    explanation = models.JSONField(default=dict, blank=True)
    cluster = models.BigIntegerField(_("cluster"), null=True, blank=True, db_index=True)
    decided_by = models.ForeignKey(
        "core.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("possible duplicate")
        verbose_name_plural = _("possible duplicates")
        constraints = [
            models.UniqueConstraint(fields=["person_a", "person_b"], name="candidate_pair_unique"),
            models.CheckConstraint(
                condition=models.Q(person_a__lt=models.F("person_b")), name="candidate_pair_order"
            ),
        ]
        indexes = [models.Index(fields=["crisis", "status", "-score"], name="candidate_queue")]

    def __str__(self) -> str:
        return f"{self.person_a_id} ~ {self.person_b_id}"

    def evidence_text(self) -> str:
        return ", ".join(str(EVIDENCE.get(e, e)) for e in self.evidence)

    def explanation_text(self) -> list[str]:
        """The match weight's parts in words, strongest first (batch linkage pairs)."""
        from aman.dedup.explain import explain

        return explain(self.explanation)


class Merge(models.Model):
    """An officer's merge of one record (`absorbed`) into another (`survivor`), with
    everything needed to undo it exactly (aman.dedup.merging): the survivor's values before,
    the rows moved from one to the other, the pairs changed. The absorbed record is kept
    (`Person.merged_into`), so its reference code still leads to the person."""

    crisis = models.ForeignKey("core.Crisis", on_delete=models.CASCADE, related_name="+")
    survivor = models.ForeignKey("registry.Person", on_delete=models.PROTECT, related_name="+")
    absorbed = models.ForeignKey("registry.Person", on_delete=models.PROTECT, related_name="+")
    pair = models.ForeignKey(
        CandidatePair, on_delete=models.SET_NULL, null=True, blank=True, related_name="merges"
    )
    automatic = models.BooleanField(_("merged automatically"), default=False)
    # The survivor's fields before and after, as stored (encrypted: they hold identifiers).
    before = EncryptedJSONField()
    after = EncryptedJSONField()
    # Which values were chosen and why: [{"group", "rule", "from", "conflict"}].
    choices = models.JSONField(default=list)
    # Rows moved to the survivor, by relation: {"registry.document.person": [ids], ...}.
    moved = models.JSONField(default=dict)
    # Other changes to undo: household contacts, pairs closed or proposed.
    other = models.JSONField(default=dict)
    merged_by = models.ForeignKey(
        "core.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    merged_at = models.DateTimeField(auto_now_add=True)
    undone_by = models.ForeignKey(
        "core.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    undone_at = models.DateTimeField(null=True, blank=True)
    # Values changed on the survivor after the merge, kept by the unmerge: [field, ...].
    kept_on_undo = models.JSONField(default=list, blank=True)
    # The moved rows as the merge left them ({relation: {id: {field: value}}}; encrypted:
    # documents and phones hold identifiers), so that an unmerge sees what changed since.
    rows = EncryptedJSONField(default=dict, blank=True)
    # What an unmerge found changed since the merge among the moved rows, and what it did:
    # [{"relation", "id", "outcome"}], outcome "restored" (removed since: made again as at
    # the merge), "reverted" (corrected since: put back as at the merge), "as_now" (changed
    # since: went back as it is now) or "left" (no longer the kept record's: left there).
    rows_on_undo = models.JSONField(default=list, blank=True)

    class Meta:
        verbose_name = _("merge")
        verbose_name_plural = _("merges")
        indexes = [models.Index(fields=["crisis", "-merged_at"], name="merge_recent")]

    def __str__(self) -> str:
        return f"{self.absorbed_id} → {self.survivor_id}"


# The thresholds of a batch linkage run that a crisis manager may tune (the policy's fields
# of the same names; `aman.dedup.linkage.Settings` holds the same defaults), in words.
THRESHOLDS = {
    "pair_threshold": _("pair threshold"),
    "cluster_threshold": _("cluster threshold"),
    "name_only_threshold": _("name-only threshold"),
}
DEFAULT_THRESHOLDS = {
    "pair_threshold": 0.90,
    "cluster_threshold": 0.95,
    "name_only_threshold": 0.995,
}


class LinkagePolicy(models.Model):
    """How a crisis's duplicates are handled (set by a crisis manager): automatic merging,
    and the thresholds of its batch linkage runs (0 < pair ≤ cluster ≤ name-only < 1)."""

    crisis = models.OneToOneField(
        "core.Crisis", on_delete=models.CASCADE, related_name="linkage_policy"
    )
    auto_merge = models.BooleanField(
        _("merge automatically on an exact identifier"),
        default=False,
        help_text=_(
            "A batch linkage run merges, without review, pairs with the same IIN or document "
            "number whose match probability is at least the threshold. Names alone are "
            "never merged automatically."
        ),
    )
    auto_merge_probability = models.FloatField(
        _("probability needed to merge automatically"), default=0.999
    )
    pair_threshold = models.FloatField(
        _("pair threshold"),
        default=DEFAULT_THRESHOLDS["pair_threshold"],
        help_text=_("A pair at or above this match probability is proposed for review."),
    )
    cluster_threshold = models.FloatField(
        _("cluster threshold"),
        default=DEFAULT_THRESHOLDS["cluster_threshold"],
        help_text=_("A link at or above this match probability joins two records in a cluster."),
    )
    name_only_threshold = models.FloatField(
        _("name-only threshold"),
        default=DEFAULT_THRESHOLDS["name_only_threshold"],
        help_text=_(
            "The higher match probability a cluster link needs without the same IIN or "
            "document number."
        ),
    )
    updated_by = models.ForeignKey(
        "core.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("duplicates policy")
        verbose_name_plural = _("duplicates policies")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(auto_merge_probability__gte=0.9)
                & models.Q(auto_merge_probability__lte=1),
                name="linkage_policy_probability_range",
            ),
            models.CheckConstraint(
                condition=models.Q(pair_threshold__gt=0)
                & models.Q(pair_threshold__lte=models.F("cluster_threshold"))
                & models.Q(cluster_threshold__lte=models.F("name_only_threshold"))
                & models.Q(name_only_threshold__lt=1),
                name="linkage_policy_thresholds_order",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.crisis_id}: auto_merge={self.auto_merge}"


# The phases of a linkage run (aman.dedup.batch and its engine), in words.
PHASES = {
    "load": _("reading the registry"),
    "prepare": _("preparing the records"),
    "train": _("estimating the model from the data"),
    "predict": _("scoring candidate pairs"),
    "cluster": _("building clusters"),
    "save": _("keeping the pairs for review"),
    "done": _("done"),
}


# Why a run failed, in words for officers (`LinkageRun.failure`).
FAILURES = {
    "error": _(
        "The search stopped on an error. Start it again; if it fails again, tell the "
        "system administrator (the details are in the log)."
    ),
    "interrupted": _("The search was stopped before it finished. Start it again."),
    "stalled": _(
        "The search stopped before it finished: its process gave no sign of life for "
        "%(minutes)d minutes (it was restarted or ran out of memory). Start it again."
    ),
    "lost": _("The search never started: no background worker took it. Start it again."),
}
# Failures that are no error of the search itself.
STOPPED = frozenset({"interrupted", "stalled", "lost"})


class LinkageRun(models.Model):
    """One batch linkage over a whole crisis (aman.dedup.batch): its progress while it
    runs, then what it found."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    crisis = models.ForeignKey("core.Crisis", on_delete=models.CASCADE, related_name="+")
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.QUEUED
    )
    phase = models.CharField(_("phase"), max_length=20, blank=True)
    progress = models.FloatField(_("progress"), default=0)
    records = models.PositiveIntegerField(_("records"), default=0)
    pairs_found = models.PositiveIntegerField(_("pairs found"), default=0)
    pairs_new = models.PositiveIntegerField(_("new pairs to review"), default=0)
    clusters = models.PositiveIntegerField(_("clusters"), default=0)
    auto_merged = models.PositiveIntegerField(_("merged automatically"), default=0)
    stats = models.JSONField(default=dict, blank=True)
    model = models.JSONField(default=dict, blank=True)
    # The thresholds the run uses ({name: probability}, `THRESHOLDS`): the crisis's policy's
    # when it was started, or those given for this run (`aman dedup run --pair-threshold`).
    thresholds = models.JSONField(_("thresholds"), default=dict, blank=True)
    # Why a failed run failed: a code of `FAILURES`, shown to officers in their language...
    failure = models.CharField(_("failure"), max_length=20, blank=True)
    # ...and what went wrong technically (the exception), for the log and the admin only.
    error_detail = models.TextField(_("technical detail"), blank=True)
    created_by = models.ForeignKey(
        "core.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    # Written with every progress report: a run whose heartbeat stops has lost its process
    # (`aman.dedup.batch.STALLED`).
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("linkage run")
        verbose_name_plural = _("linkage runs")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"run {self.pk} ({self.status})"

    @property
    def percent(self) -> int:
        return round(self.progress * 100)

    @property
    def phase_label(self) -> str:
        """The phase in words, in the reader's language."""
        return str(PHASES.get(self.phase, self.phase))

    @property
    def active(self) -> bool:
        return self.status in (self.Status.QUEUED, self.Status.RUNNING)

    @property
    def stopped(self) -> bool:
        """Failed without an error of its own: interrupted, or its process was lost."""
        return self.status == self.Status.FAILED and self.failure in STOPPED

    @property
    def status_label(self) -> str:
        return str(_("Stopped")) if self.stopped else self.get_status_display()

    @property
    def failure_text(self) -> str:
        """Why the run failed, in the reader's language (the technical detail is in
        `error_detail`, for the log and the admin)."""
        if self.status != self.Status.FAILED:
            return ""
        from aman.dedup.batch import STALLED

        text = FAILURES.get(self.failure, FAILURES["error"])
        return str(text) % {"minutes": int(STALLED.total_seconds() // 60)}
