"""The `aman` command: Django's management commands under one name.

`aman --help` lists Aman's own commands with one line each; `aman help --all` also lists
Django's. Any other argument list is handed to Django's command runner unchanged.
"""

from __future__ import annotations

import os
import sys

from django.utils.translation import gettext as _


def _first_line(text: str) -> str:
    text = str(text or "").strip()
    return text.splitlines()[0] if text else ""


def _overview(include_django: bool) -> str:
    import django
    from django.conf import settings
    from django.utils import translation

    django.setup()
    # In the language of AMAN_LANGUAGE, like the commands (see aman.core.commands).
    with translation.override(settings.LANGUAGE_CODE):
        return _overview_text(include_django)


def _overview_text(include_django: bool) -> str:
    from django.core.management import get_commands, load_command_class

    ours: list[tuple[str, str]] = []
    theirs: list[str] = []
    for name, app in sorted(get_commands().items()):
        if app.startswith("aman."):
            command = load_command_class(app, name)
            ours.append((name, _first_line(command.help)))
        else:
            theirs.append(name)
    width = max(len(name) for name, _text in ours)
    # Translators: the first line of `aman --help`. Keep "aman <command> [options]" and
    # "aman <command> --help" as they are: they are what to type.
    lines = [_("usage: aman <command> [options]   (aman <command> --help for its options)"), ""]
    lines.append(_("Aman commands:"))
    lines += [f"  {name.ljust(width)}  {text}" for name, text in ours]
    if include_django:
        lines += ["", _("Django commands:"), "  " + " ".join(theirs)]
    else:
        lines += ["", _("Django's own commands (migrate, shell, ...) work too: aman help --all")]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "aman.settings")
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in {"-h", "--help"} or args == ["help"]:
        print(_overview(include_django=False))
        return
    if args[:2] == ["help", "--all"]:
        print(_overview(include_django=True))
        return
    from django.core.management import execute_from_command_line

    execute_from_command_line(["aman", *args])


if __name__ == "__main__":
    main()
