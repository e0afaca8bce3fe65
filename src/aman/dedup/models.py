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

    class Meta:
        verbose_name = _("merge")
        verbose_name_plural = _("merges")
        indexes = [models.Index(fields=["crisis", "-merged_at"], name="merge_recent")]

    def __str__(self) -> str:
        return f"{self.absorbed_id} → {self.survivor_id}"
