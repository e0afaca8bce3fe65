"""Dates as people type them, the same in Kazakh, Russian and English (`FORMAT_MODULE_PATH`):
`02.03.1954` is the 2nd of March everywhere, and the ISO `1954-03-02` of date pickers is
always understood (Django adds the ISO formats to every list). Not accepted: slashes, which
read day and month the other way round in English (`02/03/1954` was the 3rd of February),
and two-digit years, which put a birth in `54` in 2054."""
