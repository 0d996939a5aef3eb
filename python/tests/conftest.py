"""Shared fixtures. Run from the build tree: PYTHONPATH=<build>/python python3 -m pytest python/tests
(ctest -L python does exactly that)."""

import itertools
import os
import time

import pytest

import mlops
import mlops.messaging as mes
import mlops.orchestration as orc

_names = itertools.count()


def pytest_report_header(config):
    return f"mlops package: {os.path.dirname(mlops.__file__)}"


def pytest_sessionfinish(session, exitstatus):
    # A run that collected nothing must fail loudly, never pass as "no tests" (exit code 5).
    if session.testscollected == 0:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def _inproc():
    return orc.Orchestration(f"inproc://pytest-{os.getpid()}-{next(_names)}")


def _mmap(tmp_path):
    return orc.Orchestration(f"mmap://{tmp_path}/queue")


@pytest.fixture(params=["inproc", "mmap"])
def orch(request, tmp_path):
    """A fresh orchestration of each backend that moves messages."""
    return _inproc() if request.param == "inproc" else _mmap(tmp_path)


@pytest.fixture
def inproc():
    return _inproc()


def receive_until(consumer, count, deadline_s=10.0, **kwargs):
    """Polls as the original's users do, until `count` messages came or the deadline passed."""
    got = []
    end = time.monotonic() + deadline_s
    while len(got) < count and time.monotonic() < end:
        got.extend(consumer.receive(timeout=200, **kwargs))
    return got


def seed_message(user_msg="Hello World", **fields):
    builder = (
        mes.MessageBuilder()
        .with_msg_type(mes.MessageType.START)
        .with_creator_type("ETL")
        .with_creator("ETL")
        .with_user_msg(user_msg)
        .with_next_task("Train")
    )
    for name, value in fields.items():
        getattr(builder, f"with_{name}")(value)
    return builder.build()
