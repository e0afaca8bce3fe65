import json
from pathlib import Path
from typing import Any

from django.core.management.base import CommandError, CommandParser
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from aman.core.audit import audit_read
from aman.core.commands import AmanCommand
from aman.core.errors import ApplicationError, Conflict
from aman.core.models import Crisis
from aman.geo.models import Country
from aman.registry import imports
from aman.registry.models import ImportBatch, ImportSource
from aman.registry.services import country_allowed, country_refused


class Command(AmanCommand):
    help = gettext_lazy(
        "Import a CSV or XLSX list of people (tour operator, embassy, employer) into a crisis."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument("--crisis", required=True, help=_("crisis id or code"))
        parser.add_argument(
            "--source", required=True, help=_("who sent the list, e.g. 'Kompas Tour'")
        )
        parser.add_argument(
            "--mapping",
            help=_(
                "JSON object {field: column} or a path to one; default: the source's saved "
                "mapping, else guessed from the column names"
            ),
        )
        parser.add_argument("--country", help=_("ISO code of the country the people are in"))
        parser.add_argument(
            "--kind", choices=ImportSource.Kind.values, default=ImportSource.Kind.OTHER
        )
        parser.add_argument(
            "--rejected-out", type=Path, help=_("where to write rejected rows (CSV)")
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
        if not path.is_file():
            raise CommandError(_("No such file: %(path)s") % {"path": path})
        key = options["crisis"]
        crisis = self.crisis(key)
        country = self._country(crisis, options["country"])
        try:
            batch = imports.batch_create(
                actor=None,
                crisis=crisis,
                source_name=options["source"],
                file_name=path.name,
                data=path.read_bytes(),
                country=country,
                kind=options["kind"],
            )
        except Conflict as exc:
            earlier = ImportBatch.objects.get(pk=exc.extra["batch"])
            if earlier.status != ImportBatch.Status.UPLOADED:
                self.stdout.write(
                    _("%(message)s Nothing new was imported.") % {"message": exc.message}
                )
                self._report(earlier, path, options["rejected_out"])
                return
            # Uploaded on the web and never started: this command finishes it.
            self.stdout.write(
                _("Continuing import %(import)s, uploaded and not started.")
                % {"import": earlier.pk}
            )
            batch = earlier
        mapping = self._mapping(options["mapping"]) if options["mapping"] else batch.mapping
        headers, _rows = imports.batch_table(batch)
        try:
            imports.check_mapping(mapping, headers)
        except ApplicationError as exc:
            ImportBatch.objects.filter(pk=batch.pk).update(
                status=ImportBatch.Status.FAILED, error=exc.message, content=""
            )
            if options["mapping"]:
                raise
            raise CommandError(
                _(
                    "The columns cannot be mapped automatically. Columns in the file: "
                    "%(columns)s. Fields: %(fields)s. Pass --mapping "
                    '\'{"surname": "...", "given_names": "...", ...}\'.'
                )
                % {"columns": ", ".join(headers), "fields": ", ".join(imports.TARGETS)}
            ) from None
        imports.batch_start(actor=None, batch=batch, mapping=mapping, dispatch=False)
        batch = imports.batch_run(batch.pk)
        self._report(batch, path, options["rejected_out"])

    def _country(self, crisis: Crisis, code: str | None) -> Country:
        """The country the people are in: any of the crisis's countries, as on every other
        channel (`services.country_allowed`: affected, where its crossings lead, its
        missions'); without --country, the crisis's one affected country."""
        if code:
            country = Country.objects.filter(code=code.upper()).first()
            if country is None:
                raise CommandError(_("Unknown country code %(code)s.") % {"code": repr(code)})
            if not country_allowed(crisis, country):
                raise CommandError(country_refused(crisis, country))
            return country
        affected = list(crisis.affected_countries.all())
        if len(affected) != 1:
            raise CommandError(_("Say which country the people are in: --country XX."))
        return affected[0]

    def _mapping(self, value: str) -> dict[str, str]:
        text = Path(value).read_text(encoding="utf-8") if Path(value).is_file() else value
        try:
            mapping = json.loads(text)
        except ValueError as exc:
            raise CommandError(_("--mapping is not JSON: %(error)s") % {"error": exc}) from exc
        if not isinstance(mapping, dict):
            raise CommandError(_("--mapping must be a JSON object {field: column}."))
        return {str(k): str(v) for k, v in mapping.items()}

    def _report(self, batch: ImportBatch, path: Path, out: Path | None) -> None:
        self.stdout.write(
            # Translators: the plural form follows the number of rows in the file; phrase the
            # other numbers so that they read right with any number.
            ngettext(
                "Import %(import)s (%(status)s): %(accepted)d accepted, %(rejected)d rejected, "
                "%(repeated)d already imported, of %(total)d row.",
                "Import %(import)s (%(status)s): %(accepted)d accepted, %(rejected)d rejected, "
                "%(repeated)d already imported, of %(total)d rows.",
                batch.total_rows,
            )
            % {
                "import": batch.pk,
                "status": batch.get_status_display(),
                "accepted": batch.accepted_rows,
                "rejected": batch.rejected_rows,
                "repeated": batch.repeated_rows,
                "total": batch.total_rows,
            }
        )
        from aman.dedup.selectors import import_pairs_count

        pairs = import_pairs_count(batch.pk)
        if pairs:
            self.stdout.write(
                ngettext(
                    "%(n)d possible duplicate kept for review (Duplicates in Aman, or aman "
                    "dedup run for the whole crisis).",
                    "%(n)d possible duplicates kept for review (Duplicates in Aman, or aman "
                    "dedup run for the whole crisis).",
                    pairs,
                )
                % {"n": pairs}
            )
        if batch.rejected_rows:
            target = out or path.with_name(path.name + ".rejected.csv")
            # The rejected rows hold personal data (names, birth dates, documents): written
            # to a file, an export like the page's download, audited before it is written.
            audit_read(
                actor=None,
                verb="import_rejected_file",
                obj=batch,
                crisis=batch.crisis,
                export=True,
                details={"path": str(target.resolve()), "rows": batch.rejected_rows},
            )
            target.write_text(imports.rejected_csv(batch), encoding="utf-8")
            self.stdout.write(_("Rejected rows with their reasons: %(path)s") % {"path": target})
