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


def _pxd_classes(path):
    """cdef class name -> the attribute names it declares."""
    classes = {}
    current = None
    with open(path, encoding='utf-8') as f:
        for line in f:
            line = line.split('#', 1)[0].rstrip()
            head = re.match(r'cdef class (\w+)', line)
            if head:
                current = classes.setdefault(head.group(1), set())
                continue
            decl = re.match(r'\s+cdef (?:public |readonly )?\w+ (.+)$',
                            line)
            if decl and current is not None:
                current.update(n.strip() for n in decl.group(1).split(','))
    return classes


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
    declared = _pxd_classes(_pxd_path(_accel.TWINS[module_name]))
    assert declared, 'no cdef class in the .pxd'
    with open(_source_path(module_name), encoding='utf-8') as f:
        tree = ast.parse(f.read())
    classes = {node.name: node for node in tree.body
               if isinstance(node, ast.ClassDef)}
    for name, attrs in declared.items():
        assert name in classes, '%s is declared but not in the source' % name
        missing = _assigned_attributes(classes[name]) - attrs
        assert not missing, '%s sets undeclared %s' % (name, sorted(missing))
        # a declared attribute the source never sets is a stale declaration
        stale = attrs - _assigned_attributes(classes[name])
        assert not stale, '%s declares unused %s' % (name, sorted(stale))


def test_the_pxd_reader_sees_a_missing_declaration(tmp_path):
    # the check above can fail: a class setting one attribute more than
    # its .pxd declares is reported
    pxd = tmp_path / 'x.pxd'
    pxd.write_text('cdef class A:\n    cdef public object a, b\n'
                   '    cdef public bint c\n')
    assert _pxd_classes(str(pxd)) == {'A': {'a', 'b', 'c'}}
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
        classes = [v for v in vars(module).values()
                   if isinstance(v, type) and
                   v.__module__ in (module_name, twin.__name__)]
        assert classes and all(c.__module__ == twin.__name__
                               for c in classes)
    else:
        assert twin is None
        own = (module_name, _accel.TWINS[module_name])
        classes = [v for v in vars(module).values()
                   if isinstance(v, type) and v.__module__ in own]
        assert classes and all(c.__module__ == module_name
                               for c in classes)
