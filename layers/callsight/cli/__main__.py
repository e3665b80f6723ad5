"""``python -m callsight.cli``: the same as the ``callsight`` command."""

from callsight.cli import main

main()
