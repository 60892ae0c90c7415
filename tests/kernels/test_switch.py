"""The implementation switch: a missing build must fail, not pass twice."""

from engineio_fast import _accel


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
    # the one list of the kernel surface (_accel.SURFACE): every name is
    # there in each implementation, functions and classes callable
    for module, names in _accel.SURFACE.items():
        for name in names:
            value = getattr(kernels, name)
            if name.isupper():
                assert value == getattr(_accel.pure, name), (module, name)
            else:
                assert callable(value), (module, name)


def test_each_kernel_module_has_a_pure_file_and_a_pxi():
    import os
    here = os.path.dirname(os.path.abspath(_accel.__file__))
    src = os.path.join(os.path.dirname(here), 'src_pyx')
    pure = {f[:-3] for f in os.listdir(os.path.join(here, '_pure'))
            if f.endswith('.py') and f != '__init__.py'}
    assert pure == set(_accel.SURFACE)
    if os.path.isdir(src):    # a checkout or sdist, not an installed wheel
        pxi = {f[:-4] for f in os.listdir(src) if f.endswith('.pxi')}
        assert pxi == set(_accel.SURFACE)


def test_kind_constants_match(kernels):
    if _accel.compiled is not None:
        speedups = _accel._speedups
        for name in ('KIND_NONE', 'KIND_TEXT', 'KIND_JSON', 'KIND_BINARY'):
            assert getattr(speedups, name) == getattr(_accel, name)
    assert (_accel.KIND_NONE, _accel.KIND_TEXT, _accel.KIND_JSON,
            _accel.KIND_BINARY) == (0, 1, 2, 3)


def test_kernels_spell_the_message_type_of_protocol_packets(kernels):
    # the codec kernels cannot import the protocol's constants (C code and
    # the pure spec below it): they must agree with them
    from engineio_fast.protocol import packets
    assert kernels.decode_packet('4x')[0] == packets.MESSAGE
    assert kernels.decode_packet(b'\x01')[0] == packets.MESSAGE
    assert kernels.decode_value('bAQ==', None)[0] == packets.MESSAGE
