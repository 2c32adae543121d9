"""rulec: a declarative rule compiler for video reasoning.

``import rulec`` stays light (no torch): the compiler is loaded on first use.
"""

from __future__ import annotations

__version__ = "0.1.0"
__all__ = ["compile_rules", "compile_text", "CompiledRules", "RulesError", "Diagnostic"]

_EXPORTS = {
    "compile_rules": "rulec.compile",
    "compile_text": "rulec.compile",
    "CompiledRules": "rulec.ir",
    "RulesError": "rulec.diagnostics",
    "Diagnostic": "rulec.diagnostics",
}


def __getattr__(name: str):
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'rulec' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(list(globals()) + __all__)
