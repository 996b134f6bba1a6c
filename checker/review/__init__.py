"""Reviewing a change: ``topocheck diff`` and the pieces it is made of.

* :mod:`.changes` compares the reports of two versions of a file, check by
  check, and says what got worse and what got better in the architecture's
  terms (pure);
* :mod:`.sources` finds the two versions of each file: two files, two folders,
  or the working tree and a git revision (reads files and runs ``git``);
* :mod:`.command` is the ``diff`` subcommand and the ``check --baseline`` /
  ``--write-baseline`` options (the command line's part: files, exit codes).

The formats are in :mod:`checker.reporters.changes`; spec/DIFF.md documents
the JSON shape.
"""
