"""The compiled twins of whole modules (``_accel.TWINS``, setup.py's
TWINS): a module's own source built by Cython with the attribute types of
its augmenting .pxd under ``src_pyx/twins/``.

With the compiled kernels a module with a twin is that twin (every name),
with the pure ones it is its source; the rest of the suite runs on each.
What only the source can show is checked here in both passes: every
attribute a twinned class sets is declared in its .pxd (an undeclared one
would fail only in the compiled build, at run time), and setup.py builds
the twins _accel looks for.
"""

import ast
import importlib
import os
import re

import pytest

from engineio_fast import _accel

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))


def _pxd_path(twin_name):
    return os.path.join(ROOT, 'src_pyx', 'twins',
                        *twin_name.split('.')) + '.pxd'


def _source_path(module_name):
    return os.path.join(ROOT, *module_name.split('.')) + '.py'


class _Pxd:
    """One cdef class of a .pxd: its base's name (or None; ``alias.Name``
    for a base from a cimported module), the attributes it declares,
    whether it has an instance dict, and the attributes its
    ``# __dict__: a, b`` comment says live in that dict instead."""

    def __init__(self, base):
        self.base = base
        self.attrs = set()
        self.has_dict = False
        self.in_dict = set()


def _pxd_classes(path):
    """cdef class name -> its :class:`_Pxd`."""
    return _read_pxd(path)[0]


def _read_pxd(path):
    """The cdef classes of a .pxd (see :func:`_pxd_classes`) and its
    cimports: ``{name: module}`` for ``from module cimport name, ...`` and
    ``{alias: package.module}`` for ``from package cimport module as
    alias``."""
    classes = {}
    cimports = {}
    current = None
    with open(path, encoding='utf-8') as f:
        for raw in f:
            dict_names = re.match(r'\s+# __dict__: (.+)$', raw)
            if dict_names and current is not None:
                current.in_dict.update(
                    n.strip() for n in dict_names.group(1).split(','))
                continue
            line = raw.split('#', 1)[0].rstrip()
            imp = re.match(r'from ([\w.]+) cimport (\w+) as (\w+)$', line)
            if imp:
                cimports[imp.group(3)] = imp.group(1) + '.' + imp.group(2)
                continue
            imp = re.match(r'from ([\w.]+) cimport ([\w, ]+)$', line)
            if imp:
                for n in imp.group(2).split(','):
                    cimports[n.strip()] = imp.group(1)
                continue
            head = re.match(r'cdef class (\w+)(?:\(([\w.]+)\))?', line)
            if head:
                current = classes.setdefault(head.group(1),
                                             _Pxd(head.group(2)))
                continue
            decl = re.match(r'\s+cdef (?:public |readonly )?\w+ (.+)$',
                            line)
            if decl and current is not None:
                for n in decl.group(1).split(','):
                    n = n.strip()
                    if n == '__dict__':
                        current.has_dict = True
                    elif n != '__weakref__':
                        current.attrs.add(n)
    return classes, cimports


def _source_classes(module_name):
    with open(_source_path(module_name), encoding='utf-8') as f:
        tree = ast.parse(f.read())
    return {node.name: node for node in tree.body
            if isinstance(node, ast.ClassDef)}


def _base_module(pxd_path, base):
    """The twinned module (a key of ``_accel.TWINS``) whose class a
    .pxd's cdef class names as its base, or None for a base declared in
    the same .pxd; and that class's name."""
    classes, cimports = _read_pxd(pxd_path)
    if '.' in base:
        alias, name = base.split('.')
        twin_name = cimports[alias]
        module = next(m for m, t in _accel.TWINS.items() if t == twin_name)
        return module, name
    if base in classes:
        return None, base
    return cimports[base], base


def _base_attrs(pxd_path, base):
    """What a cdef base class (declared in the same .pxd or cimported
    from a twinned module's .pxd) and its bases declare."""
    module, name = _base_module(pxd_path, base)
    if module is not None:
        pxd_path = _pxd_path(_accel.TWINS[module])
    own = _pxd_classes(pxd_path)[name]
    more = _base_attrs(pxd_path, own.base) if own.base else set()
    return own.attrs | more


def _assigned_attributes(cls_node):
    """Every ``self.<name>`` a class's methods assign (or augment)."""
    names = set()
    for node in ast.walk(cls_node):
        targets = []
        if isinstance(node, ast.Assign):
            targets = node.targets
        elif isinstance(node, (ast.AugAssign, ast.AnnAssign)):
            targets = [node.target]
        for target in targets:
            for t in ast.walk(target):
                if isinstance(t, ast.Attribute) and \
                        isinstance(t.value, ast.Name) and \
                        t.value.id == 'self' and \
                        isinstance(t.ctx, ast.Store):
                    names.add(t.attr)
    return names


@pytest.mark.parametrize('module_name', sorted(_accel.TWINS))
def test_every_attribute_a_twinned_class_sets_is_declared(module_name):
    pxd = _pxd_path(_accel.TWINS[module_name])
    declared = _pxd_classes(pxd)
    classes = _source_classes(module_name)
    # (a module of functions only, wire.py, has no class to declare)
    assert declared or not classes, 'no cdef class in the .pxd'
    # the twinned classes whose base is one of this module's: what they
    # set of the base's attributes counts as set
    subclasses = {}
    for other in _accel.TWINS:
        other_pxd = _pxd_path(_accel.TWINS[other])
        for name, decl in _pxd_classes(other_pxd).items():
            if decl.base is None:
                continue
            base_module, base = _base_module(other_pxd, decl.base)
            if (base_module or other) == module_name:
                subclasses.setdefault(base, []).append(
                    _source_classes(other)[name])
    for name, decl in declared.items():
        assert name in classes, '%s is declared but not in the source' % name
        assert not decl.in_dict or decl.has_dict, \
            '%s names __dict__ attributes without a __dict__' % name
        known = decl.attrs | decl.in_dict
        if decl.base is not None:
            known |= _base_attrs(pxd, decl.base)
        missing = _assigned_attributes(classes[name]) - known
        assert not missing, '%s sets undeclared %s' % (name, sorted(missing))
        # a declared attribute that neither the source nor a twinned
        # subclass sets is a stale declaration
        assigned = _assigned_attributes(classes[name])
        for sub in subclasses.get(name, ()):
            assigned |= _assigned_attributes(sub)
        stale = (decl.attrs | decl.in_dict) - assigned
        assert not stale, '%s declares unused %s' % (name, sorted(stale))


def _declaration_lines(path):
    with open(path, encoding='utf-8') as f:
        return [ln for ln in f if ln.startswith((' ', 'c', 'f'))]


def test_a_class_cimported_by_its_source_name_is_declared_as_its_twin():
    # a twin's .pxd that cimports a class under the twinned module's own
    # name (the name the source imports it from) reads a .pxd at that
    # name, which must declare what the class's own twin .pxd declares,
    # line for line: the two are one type at run time (same layout)
    seen = 0
    for twin_name in _accel.TWINS.values():
        _, cimports = _read_pxd(_pxd_path(twin_name))
        for module in set(cimports.values()):
            if module in _accel.TWINS.values():
                continue    # the twin itself: no mirror
            assert module in _accel.TWINS, module
            assert _declaration_lines(_pxd_path(module)) == \
                _declaration_lines(_pxd_path(_accel.TWINS[module])), module
            seen += 1
    assert seen


def test_the_pxd_reader_sees_a_missing_declaration(tmp_path):
    # the check above can fail: a class setting one attribute more than
    # its .pxd declares is reported
    pxd = tmp_path / 'x.pxd'
    pxd.write_text('cdef class A:\n    cdef public object a, b\n'
                   '    cdef public bint c\n')
    assert _pxd_classes(str(pxd))['A'].attrs == {'a', 'b', 'c'}
    tree = ast.parse('class A:\n    def f(self):\n        self.a = 1\n'
                     '        self.b += 1\n        self.d: int = 2\n'
                     '        other.e = 3\n')
    assert _assigned_attributes(tree.body[0]) == {'a', 'b', 'd'}


def test_setup_builds_the_twins_accel_looks_for():
    with open(os.path.join(ROOT, 'setup.py'), encoding='utf-8') as f:
        tree = ast.parse(f.read())
    built = next(ast.literal_eval(node.value) for node in tree.body
                 if isinstance(node, ast.Assign) and
                 getattr(node.targets[0], 'id', '') == 'TWINS')
    assert sorted(built) == sorted(_accel.TWINS.values())
    for module_name, twin_name in _accel.TWINS.items():
        assert built[twin_name] == os.path.relpath(
            _source_path(module_name), ROOT)
        assert os.path.exists(_pxd_path(twin_name))


@pytest.mark.parametrize('module_name', sorted(_accel.TWINS))
def test_a_module_is_its_twin_exactly_with_the_compiled_kernels(
        module_name):
    module = importlib.import_module(module_name)
    twin = _accel.twin(module_name)
    if _accel.IMPLEMENTATION == 'cython':
        # the compiled pass runs the compiled twin, not the source
        assert twin is not None, 'the twin was not built'
        assert twin.__file__.endswith(('.so', '.pyd')), twin.__file__
        names = [k for k in vars(twin) if not k.startswith('__')
                 and k != '_TWIN']
        assert names
        for name in names:
            assert getattr(module, name) is getattr(twin, name), name
        defined = _defined_here(module, (module_name, twin.__name__))
        assert defined and all(v.__module__ == twin.__name__
                               for v in defined)
    else:
        assert twin is None
        defined = _defined_here(
            module, (module_name, _accel.TWINS[module_name]))
        assert defined and all(v.__module__ == module_name
                               for v in defined)


def _defined_here(module, names):
    """The classes and functions of ``module`` that one of the modules
    ``names`` (the source's and its twin's) defined."""
    return [v for v in vars(module).values()
            if callable(v) and getattr(v, '__module__', None) in names]


def test_none_where_a_twin_types_a_request_raises_as_the_source_does():
    # the connection's twin types its current request (a ParsedRequest)
    # in the parser's callbacks; one called out of order finds None there:
    # AttributeError in both builds (the twins are built with nonecheck),
    # not a read of memory that is no request
    import asyncio

    import engineio_fast
    from engineio_fast.adapters.builtin.context import ServerContext
    from engineio_fast.adapters.builtin.http_protocol import HttpProtocol

    loop = asyncio.new_event_loop()
    try:
        proto = HttpProtocol(ServerContext(engineio_fast.AsyncServer(), None,
                                           loop))
        assert proto.cur is None
        with pytest.raises(AttributeError):
            proto.on_url(b'/engine.io/')
        with pytest.raises(AttributeError):
            proto.on_header(b'Host', b'x')
    finally:
        loop.close()
