"""rulec: a declarative rule compiler for video reasoning."""

__version__ = "0.1.0"
