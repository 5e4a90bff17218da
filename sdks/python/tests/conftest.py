from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from gatehouse import Gatehouse, gatehouse_bin  # noqa: E402
from standin import StandIn  # noqa: E402


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


class Clock:
    """An injected clock: tests move time instead of sleeping."""

    def __init__(self, t: float) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t

    def advance(self, seconds: float) -> None:
        self.t += seconds


@pytest.fixture
def clock() -> Clock:
    import time

    return Clock(time.time())


@pytest.fixture
def standin():
    s = StandIn()
    yield s
    s.close()


@pytest.fixture(scope="session")
def gh(tmp_path_factory: pytest.TempPathFactory):
    """One real Gatehouse for the whole run (the rotation test restarts it on the same port)."""
    if os.environ.get("GATEHOUSE_PYKIT_SKIP_BINARY"):
        pytest.skip("GATEHOUSE_PYKIT_SKIP_BINARY is set")
    work = tmp_path_factory.mktemp("gatehouse")
    g = Gatehouse(gatehouse_bin(work), work)
    g.resource_a = g.url + "/mcp"
    g.resource_b = g.url + "/other/mcp"
    g.add_resource(g.resource_a, "mcp:tools=Call the tools", "notes:read=Read notes")
    g.add_resource(g.resource_b, "mcp:tools=Call the other server's tools")
    yield g
    g.close()
