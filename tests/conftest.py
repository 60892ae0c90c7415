"""Fixtures shared by every test directory."""

import pytest

from engineio_fast import _accel

KERNEL_SETS = [pytest.param(_accel.pure, id='pure')]
if _accel.compiled is not None:
    KERNEL_SETS.append(pytest.param(_accel.compiled, id='compiled'))


@pytest.fixture(params=KERNEL_SETS)
def kernels(request):
    """Each available kernel implementation in turn (pure always, compiled
    when built), so the same assertions hold for both."""
    return request.param
