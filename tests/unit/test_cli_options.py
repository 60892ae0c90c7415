"""Units of the command line: the env-file parser and the argparse checks
of the flags' values (the flags on real servers: tests/io/
test_builtin_cli_flags.py)."""

import pytest

from engineio_fast import cli


def parse(text):
    return cli.parse_env(text, 'test.env')


def test_env_file_lines():
    assert parse(
        '# a comment\n'
        '\n'
        'A=1\n'
        '  B = two words  \n'
        'export C=3\n'
        'D=\n'
        'E=x#y\n'
        'F=x #comment\n'
        'G="a \\"quoted\\" value\\twith\\\\escapes\\n" # ok\n'
        "H='single $x \\\\n # kept'\n"
        "I=a=b\n"
        'J="#not a comment"\n'
        'K=#\n'
        '_L9=u\n') == [
        ('A', '1'), ('B', 'two words'), ('C', '3'), ('D', ''),
        ('E', 'x#y'), ('F', 'x'),
        ('G', 'a "quoted" value\twith\\escapes\n'),
        ('H', 'single $x \\\\n # kept'), ('I', 'a=b'),
        ('J', '#not a comment'), ('K', ''), ('_L9', 'u')]


def test_env_file_windows_line_ends():
    assert parse('A=1\r\nB="2"\r\n') == [('A', '1'), ('B', '2')]


@pytest.mark.parametrize('text, line, words', [
    ('no equals sign', 1, 'expected KEY=VALUE'),
    ('A=1\n=value', 2, 'expected KEY=VALUE'),
    ('A=1\n\n1ABC=2', 3, 'expected KEY=VALUE'),
    ('MY-KEY=1', 1, 'expected KEY=VALUE'),
    ('export =1', 1, 'expected KEY=VALUE'),
    ('A="unterminated', 1, 'no closing "'),
    ("A='unterminated", 1, "no closing '"),
    ('A="x\\"', 1, 'no closing "'),
    ('A="x" trailing', 1, "unexpected 'trailing'"),
    ('A="\\q"', 1, 'unknown escape \\q'),
    ('K\u00e9=1', 1, 'expected KEY=VALUE'),
])
def test_env_file_bad_lines_are_named(text, line, words):
    with pytest.raises(cli.EnvFileError) as info:
        parse(text)
    message = str(info.value)
    assert message.startswith('test.env, line %d: ' % line), message
    assert words in message, message


def test_load_env_file_keeps_what_is_set(tmp_path):
    path = tmp_path / 'x.env'
    path.write_text('A=from file\nB=from file\n')
    environ = {'A': 'already'}
    assert cli.load_env_file(str(path), environ) == ['B']
    assert environ == {'A': 'already', 'B': 'from file'}
    path.write_bytes(b'\xef\xbb\xbfC=with a BOM\n')
    assert cli.load_env_file(str(path), environ) == ['C']
    assert environ['C'] == 'with a BOM'


def args(*argv):
    return cli._parser().parse_args(['tests.io.cli_app:app'] + list(argv))


def test_defaults_are_uvicorns():
    # all but the access log, off (two requests per message on polling)
    a = args()
    assert (a.host, a.port, a.backlog, a.timeout_keep_alive,
            a.limit_concurrency, a.ws_max_size, a.access_log,
            a.proxy_headers, a.root_path, a.log_level, a.factory,
            a.env_file) == ('127.0.0.1', 5000, 2048, 5.0, None,
                            16 * 1024 * 1024, False, True, '', 'info',
                            False, None)
    assert (a.ws_ping_interval, a.ws_ping_timeout) == (None, None)


def test_values_parsed():
    a = args('--backlog', '10', '--timeout-keep-alive', '2.5',
             '--limit-concurrency', '7', '--ws-max-size', '1024',
             '--ws-ping-interval', '1.5', '--ws-ping-timeout', '3',
             '--root-path', '/chat', '--access-log', '--factory',
             '--env-file', 'x.env')
    assert (a.backlog, a.timeout_keep_alive, a.limit_concurrency,
            a.ws_max_size, a.ws_ping_interval, a.ws_ping_timeout,
            a.root_path, a.access_log, a.factory, a.env_file) == (
        10, 2.5, 7, 1024, 1.5, 3.0, '/chat', True, True, 'x.env')


@pytest.mark.parametrize('flag, value', [
    ('--port', '-1'), ('--port', '70000'), ('--port', 'eighty'),
    ('--backlog', '0'), ('--backlog', '1.5'),
    ('--workers', '0'), ('--workers', '65'),
    ('--timeout-keep-alive', '0'), ('--timeout-keep-alive', '-3'),
    ('--timeout-keep-alive', 'soon'), ('--timeout-keep-alive', 'nan'),
    ('--limit-concurrency', '0'), ('--limit-concurrency', '-1'),
    ('--ws-max-size', '-10'), ('--ws-max-size', '1e6'),
    ('--ws-ping-interval', '0'), ('--ws-ping-interval', 'inf'),
    ('--ws-ping-timeout', '-1'), ('--ws-ping-timeout', 'x'),
    ('--root-path', 'chat'), ('--root-path', '/caf\u00e9'),
])
def test_bad_values_rejected_by_argparse(capsys, flag, value):
    with pytest.raises(SystemExit) as info:
        args(flag, value)
    assert info.value.code == 2
    err = capsys.readouterr().err
    name = flag[2:]
    assert 'argument %s: %s must be' % (flag, name) in err, err
    assert repr(value) in err, err


def test_version_text():
    import platform

    import engineio_fast
    text = cli.version_text()
    assert engineio_fast.__version__ in text
    assert '(%s kernels)' % engineio_fast.IMPLEMENTATION in text
    assert platform.python_version() in text


@pytest.mark.parametrize('option, value', [
    ('limit_concurrency', 0), ('ws_max_size', -1), ('backlog', 0),
    ('ping_interval', 0), ('ping_timeout', -2.5), ('root_path', 'chat'),
    ('root_path', '/caf\u00e9'),
])
def test_builtin_server_refuses_bad_options(option, value):
    import engineio_fast
    from engineio_fast.adapters.builtin import BuiltinServer
    with pytest.raises(ValueError) as info:
        BuiltinServer(engineio_fast.AsyncServer(), **{option: value})
    assert option in str(info.value)


def test_engine_set_ping():
    import engineio_fast
    eio = engineio_fast.AsyncServer(ping_interval=(10, 1), ping_timeout=5)
    engine = eio.driver.engine
    engine.set_ping(ping_interval=2)
    assert (engine.config.ping_interval, engine.config.ping_timeout) == \
        (2.0, 5.0)
    opened = engine._open.render('sid', [])
    assert '"pingInterval":3000' in opened       # the grace stays
    assert '"pingTimeout":5000' in opened
    engine.set_ping(ping_timeout=7)
    assert '"pingTimeout":7000' in engine._open.render('sid', [])
    with pytest.raises(ValueError):
        engine.set_ping(ping_interval=0)
