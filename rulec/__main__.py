"""``python -m rulec``: the same command line as ``rulec``."""

from rulec.cli import main

main()
