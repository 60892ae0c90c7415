import pytest

from tests.cluster_redis.helpers import Host
from tests.cluster_redis.redis_proc import RedisServer, available


@pytest.fixture
def redis_srv(tmp_path):
    if not available():
        pytest.fail('redis-server is not installed (apt-get install '
                    'redis-server): the Redis manager tests need it')
    srv = RedisServer(tmp_path / 'redis', aof=True)
    (tmp_path / 'redis').mkdir()
    srv.start()
    yield srv
    srv.stop()


@pytest.fixture
def hosts(tmp_path):
    """A factory of Host processes, all stopped at the end."""
    made = []

    def make(kind, redis_url, name, env=None):
        h = Host(kind, redis_url, tmp_path / name, env)
        made.append(h)
        return h.start()
    yield make
    for h in made:
        h.stop()
