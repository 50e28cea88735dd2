import pytest

from polyshop_common.backoff import Backoff


@pytest.mark.parametrize("attempt", range(12))
def test_delay_stays_within_half_and_all_of_the_capped_ceiling(attempt):
    backoff = Backoff(initial=0.2, maximum=5.0, factor=2.0)
    ceiling = min(5.0, 0.2 * 2**attempt)
    delays = [backoff.delay(attempt) for _ in range(200)]
    assert all(ceiling / 2 <= d <= ceiling for d in delays)


def test_delays_are_jittered_not_all_equal():
    assert len({Backoff().delay(3) for _ in range(20)}) > 1
