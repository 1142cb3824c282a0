"""What every test shares: hypothesis runs without its timing checks.

Its per-example deadline (200 ms by default) and its "data generation too slow" health
check are timed assertions: a property that passes alone failed under a loaded machine's
scheduling. Performance is measured in bench/, so a property here fails only for what it
checks.
"""

from hypothesis import HealthCheck, settings

settings.register_profile(
    "channelflow", deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile("channelflow")
