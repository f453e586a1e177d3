"""Fixtures for the system tests: real ``pserve`` processes on free ports, on data
directories made by ``kpw init --demo-if-empty`` in the test's temporary directory.
Every server a test starts is killed (its whole process group) when the test ends,
whatever happened."""
import os

import pytest

from tests.system.server import Server, init_workspace


@pytest.fixture
def workspace(tmp_path):
    """``(config path, data directory)`` of a new demo workspace."""
    return init_workspace(str(tmp_path))


@pytest.fixture
def servers(tmp_path):
    """Call with a config path (and ``workers``, for ``kpw serve``): a :class:`Server`
    for it (not yet started)."""
    made = []

    def make(config, workers=None):
        server = Server(config, os.path.join(str(tmp_path), f'server-{len(made) + 1}.log'),
                        workers=workers)
        made.append(server)
        return server
    yield make
    for server in made:
        server.kill()
