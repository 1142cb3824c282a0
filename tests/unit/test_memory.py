"""keep_long_lived: garbage present when the survivors are frozen is freed, not kept."""

import gc
import weakref

from streams.memory import keep_long_lived


class _Held:
    """Stands for a committed-state reader holding a database open."""


def test_a_reference_cycle_is_freed_before_the_rest_is_frozen() -> None:
    gc.disable()  # no automatic collection may free the cycle before the call does
    try:
        held = _Held()
        cycle: list[object] = [held]
        cycle.append(cycle)
        alive = weakref.ref(held)
        del held, cycle
        assert alive() is not None
        keep_long_lived()
        assert alive() is None
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
        gc.enable()
