"""``python -m api.cli``: the ``ladder`` command."""

from api.cli.main import main

main()
