"""The first embedded model: a small pixel-space video model (kept as ``--model pixel``)."""
