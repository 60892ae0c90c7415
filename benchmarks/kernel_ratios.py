"""Run benchmarks/bench_kernels.py once and print a markdown ratio table.

Usage::

    python benchmarks/kernel_ratios.py [extra pytest args]

Every case runs in this one process; the table shows the best (minimum
over rounds) time per call of each
implementation and python-engineio's time divided by ours (higher is
better), with the geometric mean over the codec cases. The apply_mask row
compares the compiled kernel with its pure twin instead (python-engineio
has no such kernel) and gives the throughput.
"""

import json
import math
import os
import sys
import tempfile

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
# Measure the checkout this script lives in (with its in-place build).
sys.path.insert(0, os.path.dirname(HERE))
REF = 'python-engineio'


def run(extra_args):
    fd, path = tempfile.mkstemp(suffix='.json')
    os.close(fd)
    try:
        code = pytest.main([
            os.path.join(HERE, 'bench_kernels.py'), '--benchmark-only', '-q',
            '-p', 'no:cacheprovider', '--benchmark-json=' + path,
            '--benchmark-min-rounds=20', '--benchmark-max-time=0.5',
            '--benchmark-disable-gc', '-W', 'ignore::DeprecationWarning',
        ] + list(extra_args))
        if code != 0:
            sys.exit('benchmark run failed (exit code %s)' % code)
        with open(path, encoding='utf-8') as f:
            return json.load(f)
    finally:
        os.unlink(path)


def fmt_time(seconds):
    if seconds < 1e-6:
        return '%.0f ns' % (seconds * 1e9)
    return '%.2f µs' % (seconds * 1e6)


def table(data):
    means = {}
    extra = {}
    for bench in data['benchmarks']:
        impl = bench['extra_info']['impl']
        # The minimum over rounds: the least disturbed by other load on the
        # machine (each round is itself many calls).
        means.setdefault(bench['group'], {})[impl] = bench['stats']['min']
        extra[bench['group']] = bench['extra_info']
    impls = [REF, 'pure', 'compiled']
    lines = ['| case | ' + ' | '.join(impls) + ' | ratio pure | '
             'ratio compiled |', '|---' * (len(impls) + 3) + '|']
    logs = {'pure': [], 'compiled': []}
    for group in sorted(g for g in means if REF in means[g]):
        row = means[group]
        cells = [fmt_time(row[i]) if i in row else '-' for i in impls]
        ratios = []
        for impl in ('pure', 'compiled'):
            if impl in row:
                ratio = row[REF] / row[impl]
                logs[impl].append(math.log(ratio))
                ratios.append('%.2f×' % ratio)
            else:
                ratios.append('-')
        lines.append('| %s | %s | %s |' % (group, ' | '.join(cells),
                                           ' | '.join(ratios)))
    geo = ['%.2f×' % math.exp(sum(v) / len(v)) if v else '-'
           for v in (logs['pure'], logs['compiled'])]
    lines.append('| **geometric mean** |' + ' |' * len(impls) +
                 ' **%s** | **%s** |' % tuple(geo))
    mask = means.get('apply_mask_64k')
    if mask:
        size = extra['apply_mask_64k']['bytes']
        lines.append('')
        lines.append('| apply_mask 64 KiB | pure | compiled | '
                     'compiled / pure |')
        lines.append('|---|---|---|---|')
        cells = []
        for impl in ('pure', 'compiled'):
            if impl in mask:
                cells.append('%s (%.2f GB/s)' % (
                    fmt_time(mask[impl]), size / mask[impl] / 1e9))
            else:
                cells.append('-')
        speedup = ('%.1f×' % (mask['pure'] / mask['compiled'])
                   if 'compiled' in mask else '-')
        lines.append('| throughput | %s | %s | %s |' % (cells[0], cells[1],
                                                         speedup))
    return '\n'.join(lines)


def main(argv):
    print(table(run(argv)))


if __name__ == '__main__':
    main(sys.argv[1:])
