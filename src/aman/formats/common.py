"""The input formats every language uses (see the package's docstring); display formats
stay Django's for each language."""

DATE_INPUT_FORMATS = ["%d.%m.%Y"]
DATETIME_INPUT_FORMATS = ["%d.%m.%Y %H:%M:%S", "%d.%m.%Y %H:%M"]
