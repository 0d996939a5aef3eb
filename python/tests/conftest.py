"""Shared fixtures. Run from the build tree: PYTHONPATH=<build>/python python3 -m pytest python/tests
(ctest -L python does exactly that)."""

import itertools
import os
import signal
import subprocess
import sys
import textwrap
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


def run_script(code, *args, timeout_s=60):
    """Runs `code` in a fresh interpreter (the crash and hang cases: a regression fails one test
    instead of killing the run). The script gets a session of its own, so that on timeout it is
    killed with every process it forked, and the test fails saying what it printed."""
    process = subprocess.Popen([sys.executable, "-c", textwrap.dedent(code), *map(str, args)],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               start_new_session=True, env=os.environ.copy())
    try:
        out, err = process.communicate(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        out, err = process.communicate()
        pytest.fail(f"the script hung for {timeout_s} s\nstdout:\n{out}\nstderr:\n{err}")
    return subprocess.CompletedProcess(process.args, process.returncode, out, err)


def assert_clean_exit(done):
    """The script of run_script() exited with 0; a signal (a crash) is named."""
    how = (f"killed by {signal.Signals(-done.returncode).name}" if done.returncode < 0
           else f"exit code {done.returncode}")
    assert done.returncode == 0, f"{how}\nstdout:\n{done.stdout}\nstderr:\n{done.stderr}"


def kafka_orchestration(**options):
    """A kafka orchestration whose broker is unreachable (a port nothing listens on), or a
    visible skip when the core was built without the kafka backend."""
    import socket
    with socket.socket() as probe:  # a free port, closed again: connections are refused
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    query = "&".join(f"{key}={value}" for key, value in options.items())
    try:
        return orc.Orchestration(f"kafka://127.0.0.1:{port}" + (f"?{query}" if query else ""))
    except orc.InvalidArgumentError as error:
        pytest.skip(f"kafka backend not built: {error}")
