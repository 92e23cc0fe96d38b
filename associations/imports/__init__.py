"""Import of rows from a spreadsheet (CSV or XLSX), whatever they describe.

One ``ImportJob`` row walks four steps: the file is **read** and checked when uploaded (``reader``:
nothing is stored when it is refused), its columns are **mapped** to the fields of the import kind
(``columns``: guessed from the headers, editable), every row is **classified** (create / update /
unchanged / error, ``classification``) for the preview, and after confirmation the background task
(``tasks``) **applies** all rows in one transaction — or none (``services``).

What the rows mean belongs to an **import kind** (``schema.ImportKind``): its fields with their
French labels, header aliases and value parsers (``values``), how a row matches existing data and how
the classified rows are written. Each app registers its kinds in ``schema.import_kinds`` from its
``AppConfig.ready()`` (members: ``associations.membership.import_schema``); this package imports none
of them.
"""
