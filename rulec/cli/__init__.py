"""The ``rulec`` command line: one module per command group, each a thin shell over a
library call. :mod:`rulec.cli.app` holds the root app and mounts the groups."""

from rulec.cli.app import app, main

__all__ = ["app", "main"]
