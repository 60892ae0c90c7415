"""Reference pages generated at build time, so they follow the code: the
reStructuredText of each (no Sphinx needed here; eio_directives.py makes
them directives).

``cli-reference``
    every option of ``engineio-fast``'s argparse parser
    (:func:`engineio_fast.cli` ``_parser``): the ``--help`` text, then one
    entry per option with its default and choices. An option added to the
    parser appears in the docs without editing them.

``server-options``
    the ``Args:`` section of a class's (or function's) Google-style
    docstring, with the default from its signature where it has one::

        ```{server-options} engineio_fast.AsyncServer
        ```

``builtin-limits``
    the built-in server's ``limits`` (``DEFAULT_LIMITS`` in
    engineio_fast/adapters/builtin/context.py) with their defaults and the
    comment beside each.
"""

import argparse
import inspect
import io
import os
import re
import tokenize


def cli_parser():
    """engineio_fast.cli's argparse parser, whatever its factory is called
    (``_parser`` today; a public ``build_parser``/``parser`` also works)."""
    from engineio_fast import cli
    for name in ('build_parser', 'make_parser', 'parser', '_parser'):
        factory = getattr(cli, name, None)
        if callable(factory):
            parser = factory()
            if isinstance(parser, argparse.ArgumentParser):
                return parser
    raise RuntimeError('engineio_fast.cli has no argparse parser factory')


def _literal(value):
    return '``%s``' % (value,) if value not in (None, '') else ''


def _rst_escape(text):
    # argparse help is plain text: keep it plain in reStructuredText
    return (text.replace('\\', '\\\\').replace('*', r'\*')
            .replace('`', r'\`').replace('|', r'\|').replace('_', r'\_'))


def _help_text(parser, action):
    text = action.help or ''
    if text == argparse.SUPPRESS:
        return None
    params = dict(vars(action), prog=parser.prog)
    for key, value in list(params.items()):
        if value is argparse.SUPPRESS:
            del params[key]
        elif hasattr(value, '__name__'):
            params[key] = value.__name__
    if params.get('choices') is not None:
        params['choices'] = ', '.join(map(str, params['choices']))
    try:
        return text % params
    except (KeyError, TypeError, ValueError):
        return text


def cli_rst(parser):
    """The reStructuredText of the CLI reference."""
    lines = ['.. code-block:: text', '']
    # a fixed width, not the terminal's: the page is the same wherever built
    saved = os.environ.get('COLUMNS')
    os.environ['COLUMNS'] = '90'
    try:
        help_text = parser.format_help()
    finally:
        if saved is None:
            del os.environ['COLUMNS']
        else:
            os.environ['COLUMNS'] = saved
    lines += ['   ' + line if line else '' for line in
              help_text.splitlines()]
    lines += ['']
    for action in parser._actions:
        if isinstance(action, argparse._HelpAction):
            continue
        text = _help_text(parser, action)
        if text is None:
            continue
        if action.option_strings:
            names = ', '.join('``%s``' % s for s in action.option_strings)
            if action.metavar or action.nargs != 0:
                metavar = action.metavar or action.dest.upper()
                if isinstance(metavar, tuple):
                    metavar = ' '.join(metavar)
                if action.nargs != 0 and not isinstance(
                        action, argparse.BooleanOptionalAction):
                    names += ' *%s*' % _rst_escape(str(metavar))
        else:
            names = '*%s* (positional)' % _rst_escape(action.metavar
                                                      or action.dest)
        lines.append(names)
        body = []
        if text:
            body.append(_rst_escape(' '.join(text.split())))
        facts = []
        if action.choices is not None:
            facts.append('choices: ' + ', '.join(
                '``%s``' % c for c in action.choices))
        default = action.default
        if action.option_strings and default not in (None, argparse.SUPPRESS) \
                and not (action.nargs == 0 and default is False):
            # (an empty string has no inline literal: ```` is not one)
            facts.append('default: ``%s``' % (default,) if default != ''
                         else 'default: empty')
        if facts:
            body.append('(' + '; '.join(facts) + ')')
        if not body:
            body = ['\\ ']
        for part in body:
            lines.append('   ' + part)
        lines.append('')
    return lines


_ARG = re.compile(r'^(\*{0,2}[A-Za-z_][A-Za-z0-9_]*)\s*(\([^)]*\))?:\s?(.*)$')


def docstring_args(obj):
    """``[(name, description)]`` from the ``Args:`` section of ``obj``'s
    Google-style docstring."""
    doc = inspect.getdoc(obj) or ''
    lines = doc.splitlines()
    out = []
    inside = False
    base = None
    for line in lines:
        stripped = line.strip()
        indent = len(line) - len(line.lstrip())
        if not inside:
            if stripped in ('Args:', 'Arguments:', 'Parameters:'):
                inside = True
                base = None
            continue
        if not stripped:
            continue
        if base is None:
            base = indent
        if indent < base:
            inside = False      # the next section (Raises:, Example::...)
            continue
        match = _ARG.match(stripped) if indent == base else None
        if match:
            out.append([match.group(1), match.group(3)])
        elif out:
            out[-1][1] += ' ' + stripped
    return [(name, ' '.join(text.split())) for name, text in out]


def options_rst(obj):
    try:
        signature = inspect.signature(obj)
        params = signature.parameters
    except (TypeError, ValueError):
        params = {}
    lines = []
    for name, text in docstring_args(obj):
        bare = name.lstrip('*')
        param = params.get(bare)
        heading = '``%s``' % name
        if param is not None and param.default is not inspect.Parameter.empty:
            heading += ' (default ``%r``)' % (param.default,)
        lines.append(heading)
        lines.append('   ' + (text or '\\ '))
        lines.append('')
    if not lines:
        raise ValueError('%r has no Args: section in its docstring' % obj)
    return lines


def limits_rst():
    from engineio_fast.adapters.builtin import context
    source = inspect.getsource(context)
    comments = {}
    current = None
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        if tok.type == tokenize.STRING and tok.start[1] == 4:
            current = tok.string.strip('\'"')
            comments.setdefault(current, [])
        elif tok.type == tokenize.COMMENT and current is not None:
            comments[current].append(tok.string.lstrip('#').strip())
        elif tok.type == tokenize.OP and tok.string == '}':
            break
    lines = ['.. list-table::', '   :header-rows: 1', '',
             '   * - limit', '     - default', '     - meaning']
    for key, value in context.DEFAULT_LIMITS.items():
        meaning = ' '.join(comments.get(key, [])) or '\\ '
        lines += ['   * - ``%s``' % key, '     - ``%r``' % (value,),
                  '     - ' + meaning]
    return lines + ['']


__all__ = ['cli_parser', 'cli_rst', 'docstring_args', 'options_rst',
           'limits_rst']
