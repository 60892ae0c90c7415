"""The implementation switch: a missing build must fail, not pass twice."""

from engineio_fast import _accel

NAMES = ('decode_packet', 'encode_text', 'b64encode', 'b64decode',
         'split_payload', 'decode_payload', 'join_payload', 'jsonp_wrap',
         'decode_value', 'encode_value', 'encode_payload', 'SessionTable',
         'TimerHeap', 'parse_frame_header', 'build_frame_header',
         'build_frame', 'apply_mask')


def test_compiled_kernels_are_active_unless_disabled():
    if _accel.NO_EXTENSIONS:
        assert _accel.IMPLEMENTATION == 'python'
        assert _accel.active is _accel.pure
    else:
        assert _accel.IMPLEMENTATION == 'cython', (
            'engineio_fast._speedups is not built; run '
            '`python setup.py build_ext --inplace` or set '
            'ENGINEIO_FAST_NO_EXTENSIONS=1')
        assert _accel.active is _accel.compiled


def test_every_kernel_name_is_exported(kernels):
    for name in NAMES:
        assert callable(getattr(kernels, name)), name


def test_kind_constants_match(kernels):
    if _accel.compiled is not None:
        speedups = _accel._speedups
        for name in ('KIND_NONE', 'KIND_TEXT', 'KIND_JSON', 'KIND_BINARY'):
            assert getattr(speedups, name) == getattr(_accel, name)
    assert (_accel.KIND_NONE, _accel.KIND_TEXT, _accel.KIND_JSON,
            _accel.KIND_BINARY) == (0, 1, 2, 3)
