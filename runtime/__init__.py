"""Rulec runtime, one sub-package per purpose: ``models/`` (video models and their training),
``optimize/`` (the Reasoner contract, LoRA, test-time optimization, baselines), ``tasks/``
(the task suite), ``teacher/`` (a VLM writes rules), ``bench/`` (the benchmark), plus video
IO (:mod:`video_io`) and input bounds (:mod:`input_limits`)."""
