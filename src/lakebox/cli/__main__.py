"""``python -m lakebox.cli``: the ``lakebox`` command."""

from lakebox.cli import main

main()
