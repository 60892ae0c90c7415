"""Kernel test fixtures.

``kernels`` (overriding the root conftest's function-scoped fixture with a
session-scoped one, so hypothesis tests may use it) runs every kernel test
once per available implementation: the pure twin always, the compiled
extension when it is built. ``test_switch.py`` makes a missing build a
failure rather than a silent second run of the pure kernels.
"""

import os

import pytest
from hypothesis import HealthCheck, settings

from engineio_fast import _accel

settings.register_profile(
    'kernels', deadline=None, max_examples=150,
    suppress_health_check=[HealthCheck.too_slow])
settings.register_profile(
    'thorough', deadline=None, max_examples=3000,
    suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get('HYPOTHESIS_PROFILE', 'kernels'))

KERNEL_SETS = [pytest.param(_accel.pure, id='pure')]
if _accel.compiled is not None:
    KERNEL_SETS.append(pytest.param(_accel.compiled, id='compiled'))


@pytest.fixture(scope='session', params=KERNEL_SETS)
def kernels(request):
    """Each available kernel implementation in turn."""
    return request.param
