"""engineio_fast.install() and its two no-edit forms (the environment
variable read by engineio_fast_switch.pth, and ``engineio-fast exec``):
python-socketio imports engineio_fast, and no module of python-engineio is
loaded. Each case runs in a fresh interpreter: the switch is process-wide
and must come before ``import socketio``."""

import json
import os
import site
import subprocess
import sys
import textwrap

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
PTH = os.path.join(ROOT, 'engineio_fast', 'engineio_fast_switch.pth')

# run after the switch: python-socketio's server and client, a live
# python-socketio app under uvicorn with python-socketio's AsyncClient
# (emit with an ack both ways), then what sys.modules holds
REPORT = textwrap.dedent('''
    import asyncio, importlib.util, json, os, sys
    import socketio, engineio, engineio_fast
    import engineio.async_drivers.asgi, engineio.packet, engineio.json

    sio = socketio.AsyncServer(async_mode='asgi')
    app = socketio.ASGIApp(sio)

    @sio.event
    async def connect(sid, environ, auth):
        return auth == {'token': 't'}

    @sio.event
    async def shout(sid, text):
        got = await sio.call('whisper', text.lower(), to=sid, timeout=5)
        return text.upper() + '/' + got

    async def main():
        from tests.socketio.inproc import start_uvicorn
        url, stop = await start_uvicorn(app)
        client = socketio.AsyncClient()

        @client.event
        def whisper(text):
            return text + '!'

        await asyncio.wait_for(client.connect(url, auth={'token': 't'}), 10)
        answer = await client.call('shout', 'Hi', timeout=5)
        transport = client.transport()
        await client.disconnect()
        await stop()
        return answer, transport

    answer, transport = asyncio.run(main())
    mods = {name: getattr(m, '__file__', None) or ''
            for name, m in list(sys.modules.items()) if m is not None}
    print(json.dumps({
        'same': engineio is engineio_fast,
        'server_engine': type(sio.eio).__module__,
        'client_engine': type(socketio.AsyncClient().eio).__module__,
        'asgi_base': [c.__module__ for c in socketio.ASGIApp.__mro__],
        'answer': answer, 'transport': transport,
        'files': sorted(set(mods.values())),
        'engineio_names': sorted(n for n in mods
                                 if n == 'engineio' or n.startswith('engineio.')),
    }))
''')


def python_engineio_dir():
    """Where python-engineio itself is installed (it is: python-socketio
    depends on it), found without importing it."""
    out = subprocess.run(
        [sys.executable, '-c', 'import importlib.util, os; print(os.path.'
         'dirname(importlib.util.find_spec("engineio").origin))'],
        capture_output=True, text=True, timeout=60, cwd='/')
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


def run_python(code, env=None, timeout=90):
    full_env = dict(os.environ, PYTHONPATH=ROOT)
    full_env.pop('ENGINEIO_FAST_AS_ENGINEIO', None)
    full_env.update(env or {})
    return subprocess.run([sys.executable, '-c', code], capture_output=True,
                          text=True, timeout=timeout, cwd=ROOT, env=full_env)


def check_report(out):
    assert out.returncode == 0, out.stderr[-3000:]
    report = json.loads(out.stdout.strip().splitlines()[-1])
    assert report['same'] is True
    assert report['server_engine'] == 'engineio_fast.async_server'
    assert report['client_engine'] == 'engineio_fast.async_client'
    assert 'engineio_fast.adapters.asgi_app' in report['asgi_base']
    assert report['answer'] == 'HI/hi!'
    assert report['transport'] == 'websocket'
    theirs = python_engineio_dir()
    assert os.path.isdir(theirs)
    loaded = [f for f in report['files'] if f.startswith(theirs + os.sep)]
    assert loaded == [], loaded
    assert 'engineio.async_drivers.asgi' in report['engineio_names']
    return report


def test_install_before_socketio():
    check_report(run_python(
        'import engineio_fast; engineio_fast.install(); engineio_fast.install()'
        '\n' + REPORT))


def test_environment_variable_through_the_pth_file(tmp_path):
    # the .pth file is processed the way the interpreter processes the one a
    # wheel puts in site-packages (site.addsitedir at start-up)
    with open(PTH) as f:
        pth = f.read()
    assert pth.startswith('import ') and pth.count('\n') == 1
    (tmp_path / 'engineio_fast_switch.pth').write_text(pth)
    start = 'import site; site.addsitedir(%r)\n' % str(tmp_path)
    check_report(run_python(start + REPORT,
                            env={'ENGINEIO_FAST_AS_ENGINEIO': '1'}))
    # without the variable the file does nothing: python-engineio is used
    out = run_python(start + 'import socketio, engineio; print(engineio.__file__)')
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().startswith(python_engineio_dir() + os.sep)
    assert 'engineio_fast' not in out.stdout


def test_install_after_engineio_was_imported_is_an_error():
    out = run_python(textwrap.dedent('''
        import socketio, engineio_fast
        try:
            engineio_fast.install()
        except RuntimeError as exc:
            print('refused:', exc)
        import sys
        print('finder:', engineio_fast.switch.installed())
    '''))
    assert out.returncode == 0, out.stderr
    assert 'refused: engineio_fast.install() must run before' in out.stdout
    assert 'ENGINEIO_FAST_AS_ENGINEIO=1' in out.stdout
    assert 'finder: False' in out.stdout


def test_unknown_submodule_is_not_found_and_not_loaded_from_python_engineio():
    out = run_python(textwrap.dedent('''
        import sys, engineio_fast
        engineio_fast.install()
        try:
            import engineio.no_such_module
        except ModuleNotFoundError as exc:
            print('missing:', exc.name)
        import engineio.server
        print('same:', engineio.server is engineio_fast.server,
              engineio.server.Server is engineio_fast.Server)
        print('files:', sorted(getattr(m, '__file__', '') or ''
                               for n, m in sys.modules.items()
                               if n.startswith('engineio')))
    '''))
    assert out.returncode == 0, out.stderr
    assert 'missing: engineio.no_such_module' in out.stdout
    assert 'same: True True' in out.stdout
    assert python_engineio_dir() + os.sep not in out.stdout


def test_exec_needs_a_command():
    out = subprocess.run([sys.executable, '-m', 'engineio_fast', 'exec'],
                         capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert out.returncode == 2
    assert 'usage: engineio-fast exec COMMAND' in out.stderr


def test_exec_runs_the_command_switched():
    """With the wheel's .pth installed, the command runs switched (what
    tests/packaging/check_dist.sh checks on the installed wheel); an editable
    install has no .pth, and exec says so instead of running unswitched."""
    installed = any(
        os.path.exists(os.path.join(d, 'engineio_fast_switch.pth'))
        for d in site.getsitepackages() + [site.getusersitepackages()])
    out = subprocess.run(
        [sys.executable, '-m', 'engineio_fast', 'exec', sys.executable, '-c',
         'import socketio, engineio; print(engineio.__name__)'],
        capture_output=True, text=True, timeout=60, cwd=ROOT)
    if installed:
        assert out.returncode == 0, out.stderr
        assert out.stdout.strip() == 'engineio_fast'
    else:
        assert out.returncode == 2
        assert 'engineio_fast_switch.pth is not in site-packages' in out.stderr
        assert out.stdout == ''
