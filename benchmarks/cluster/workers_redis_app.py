"""The server of workers_bench.py: an AsyncServer with
engineio_fast.AsyncRedisManager, served by the built-in server's workers::

    REDIS_URL=redis://... engineio-fast workers_redis_app:eio --workers 4

(run from benchmarks/cluster/). Messages: ``lat SID TEXT`` sends
``L<TEXT>`` to SID (whichever worker owns it); ``bb N`` broadcasts ``B0``
.. ``B<N-1>`` to every session of every worker.
"""

import os

from redis_app import make_app

eio = make_app(os.environ['REDIS_URL'])
