"""Which optional extra of the package provides which library, and the message naming it.

The core install (compile, check, explain, the reward) needs none of these; ``rulec[tto]``
is for the video models, test-time optimization and the benchmark, ``rulec[teach]`` for the
VLM teacher, ``rulec[ray]`` for ``rulec bench --ray`` (a Ray cluster), ``rulec[all]``
for the models and the teacher. Kept in step with pyproject.toml by a test.
"""

from __future__ import annotations

#: top-level module -> the extras that install it
EXTRAS = {
    "diffusers": ("tto",),
    "peft": ("tto",),
    "transformers": ("tto", "teach"),
    "tokenizers": ("tto",),
    "safetensors": ("tto",),
    "openai": ("teach",),
    "ray": ("ray",),
}


#: the extras ``rulec[all]`` installs (ray is for clusters, not in it)
IN_ALL = ("tto", "teach")


def missing_extra(exc: BaseException) -> str | None:
    """The message for an ImportError of a library an extra provides (None for any other error)."""
    if not isinstance(exc, ImportError):
        return None
    name = (getattr(exc, "name", None) or "").split(".")[0]
    extras = EXTRAS.get(name)
    if extras is None:
        return None
    named = " or ".join(f"'rulec[{e}]'" for e in extras)
    also = " (or 'rulec[all]')" if set(extras) <= set(IN_ALL) else ""
    return f"this needs {name}, which the core install leaves out: pip install {named}{also}"
