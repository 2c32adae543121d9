"""Shared test configuration: Hypothesis profiles.

``ci`` (default) keeps property tests quick and derandomized, so CI and a local ``make test``
run the same examples and a clean clone's verdict does not depend on luck;
``HYPOTHESIS_PROFILE=thorough`` explores many more, randomly. Deadlines are off: CPU time on
a shared machine is noisy.
"""

import os

from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci",
    max_examples=40,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    print_blob=True,
)
settings.register_profile(
    "thorough",
    max_examples=1000,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    print_blob=True,
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
