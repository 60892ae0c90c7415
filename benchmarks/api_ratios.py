"""The public codec objects as python-socketio and applications call them,
construction included: engineio_fast's ``Packet``/``Payload`` against
python-engineio's, in one run.

    python benchmarks/api_ratios.py             # compiled kernels and pure twins
    python benchmarks/api_ratios.py --json out.json

Each case is one expression run on both libraries' classes (``P`` is the
module ``packet``, ``L`` the module ``payload``); its time is the best of
``--repeat`` timeit rounds, each long enough to take about 0.2 s. The pure
column reruns this script with ``ENGINEIO_FAST_NO_EXTENSIONS=1`` (the
``Packet`` class is bound to a kernel set when it is imported). The ratio
is python-engineio's time divided by ours (higher is better), with the
geometric mean over the cases. ``benchmarks/kernel_ratios.py`` measures
the kernels under these objects instead.
"""

import argparse
import base64
import json
import math
import os
import subprocess
import sys
import timeit

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

TEXT = 'hello world, this is a chat message'
DICT = {'event': 'chat', 'room': 'lobby',
        'data': {'user': 'alice', 'text': 'hi there', 'n': 42}}
DICT_ENCODED = '4' + json.dumps(DICT, separators=(',', ':'))
BLOB = bytes(range(256)) * 4
BLOB_ENCODED = 'b' + base64.b64encode(BLOB).decode()
TEN = ['message number %d' % i for i in range(10)]
TEN_ENCODED = '\x1e'.join('4' + m for m in TEN)

# (name, statement); P = the packet module, L = the payload module
CASES = [
    ('text message encode', 'P.Packet(P.MESSAGE, data=TEXT).encode()'),
    ('text message decode', "P.Packet(encoded_packet='4' + TEXT)"),
    ('JSON message encode', 'P.Packet(P.MESSAGE, data=DICT).encode()'),
    ('JSON message decode', 'P.Packet(encoded_packet=DICT_ENCODED)'),
    ('binary (1 KiB) encode as base64',
     'P.Packet(P.MESSAGE, data=BLOB).encode(b64=True)'),
    ('binary (1 KiB) decode from base64',
     'P.Packet(encoded_packet=BLOB_ENCODED)'),
    ('10-packet payload encode',
     'L.Payload(packets=[P.Packet(P.MESSAGE, data=m) for m in TEN])'
     '.encode()'),
    ('10-packet payload decode', 'L.Payload(encoded_payload=TEN_ENCODED)'),
]


def best(stmt, namespace, repeat, number=0):
    timer = timeit.Timer(stmt, globals=namespace)
    if not number:
        number, _ = timer.autorange()
    number = max(1, number)
    return min(timer.repeat(repeat=repeat, number=number)) / number


def measure(repeat, number=0):
    """{'ours': {case: seconds}, 'python-engineio': {...}, 'kernels': ...}"""
    import engineio.packet as ref_p
    import engineio.payload as ref_l

    import engineio_fast
    import engineio_fast.packet as fast_p
    import engineio_fast.payload as fast_l
    data = dict(TEXT=TEXT, DICT=DICT, DICT_ENCODED=DICT_ENCODED, BLOB=BLOB,
                BLOB_ENCODED=BLOB_ENCODED, TEN=TEN, TEN_ENCODED=TEN_ENCODED)
    out = {'kernels': engineio_fast.IMPLEMENTATION, 'ours': {},
           'python-engineio': {}}
    for name, stmt in CASES:
        # the same result from both, or the comparison means nothing
        a = eval(stmt, dict(data, P=fast_p, L=fast_l))
        b = eval(stmt, dict(data, P=ref_p, L=ref_l))
        assert same(a, b), (name, a, b)
        out['ours'][name] = best(stmt, dict(data, P=fast_p, L=fast_l),
                                 repeat, number)
        out['python-engineio'][name] = best(stmt, dict(data, P=ref_p,
                                                       L=ref_l), repeat,
                                            number)
    return out


def same(a, b):
    if hasattr(a, 'packets'):
        return [same(x, y) for x, y in zip(a.packets, b.packets)] == \
            [True] * len(b.packets) and len(a.packets) == len(b.packets)
    if hasattr(a, 'packet_type'):
        return (a.packet_type, a.data, a.binary) == \
            (b.packet_type, b.data, b.binary)
    return a == b


def fmt(seconds):
    return '%.0f ns' % (seconds * 1e9) if seconds < 1e-6 else \
        '%.2f µs' % (seconds * 1e6)


def geomean(values):
    return math.exp(sum(math.log(v) for v in values) / len(values))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--repeat', type=int, default=5)
    ap.add_argument('--json', help='also write the figures here')
    ap.add_argument('--number', type=int, default=0,
                    help='calls per round (default: timeit.autorange)')
    ap.add_argument('--child', action='store_true', help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        print(json.dumps(measure(args.repeat, args.number)))
        return 0
    runs = {}
    for label, env in (('compiled', {}),
                       ('pure', {'ENGINEIO_FAST_NO_EXTENSIONS': '1'})):
        proc = subprocess.run(
            [sys.executable, os.path.abspath(__file__), '--child',
             '--repeat', str(args.repeat), '--number', str(args.number)],
            env=dict(os.environ, **env), capture_output=True, text=True,
            timeout=900)
        if proc.returncode:
            sys.exit(proc.stderr[-2000:])
        runs[label] = json.loads(proc.stdout.strip().splitlines()[-1])
    if runs['compiled']['kernels'] != 'cython':
        print('(no compiled build: the "compiled" column is pure)')
    lines = ['| case | python-engineio | engineio_fast compiled | ratio | '
             'engineio_fast pure | ratio |', '|---|---|---|---|---|---|']
    ratios = {'compiled': [], 'pure': []}
    for name, _ in CASES:
        ref = runs['compiled']['python-engineio'][name]
        row = ['', name, fmt(ref)]
        for label in ('compiled', 'pure'):
            ours = runs[label]['ours'][name]
            # each child measured python-engineio too; its own figure is
            # the fair one for its column (same process, same moment)
            r = runs[label]['python-engineio'][name] / ours
            ratios[label].append(r)
            row += [fmt(ours), '%.2f×' % r]
        lines.append(' | '.join(row)[1:] + ' |')
    lines.append('| **geometric mean** | | | **%.2f×** | | **%.2f×** |'
                 % (geomean(ratios['compiled']), geomean(ratios['pure'])))
    print('\n'.join(lines))
    if args.json:
        with open(args.json, 'w') as f:
            json.dump({'runs': runs, 'geomean': {
                k: geomean(v) for k, v in ratios.items()}}, f, indent=1)
    return 0


if __name__ == '__main__':
    sys.exit(main())
