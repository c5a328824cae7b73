"""The ``ladder`` command line: ``main`` builds the Typer app from one module per group
of commands (``ops``, ``people``, ``exports``, ``audit``, ``proofs``, ``keys``,
``transfer``, ``erasure``, ``documents``, ``demo``);
``errors`` and ``support`` are what they share."""
