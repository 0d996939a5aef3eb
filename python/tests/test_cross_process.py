"""Two processes over the mmap queue: Python -> C++ and C++ -> Python.

The C++ side is the library's own example binaries (example_producer / example_consumer,
paths from ctest in MLOPS_EXAMPLE_PRODUCER / MLOPS_EXAMPLE_CONSUMER) and, always, a second
Python process, which is the same C++ core behind the binding."""

import os
import subprocess
import sys
import textwrap

import pytest

import mlops.messaging as mes
import mlops.orchestration as orc
from conftest import receive_until, seed_message

TIMEOUT_S = 60


def example(name):
    path = os.environ.get(f"MLOPS_EXAMPLE_{name.upper()}")
    if not path or not os.access(path, os.X_OK):
        pytest.skip(f"example_{name} not built (set MLOPS_EXAMPLE_{name.upper()}; ctest does)")
    return path


def run_python(code, *args):
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code), *args], capture_output=True,
                          text=True, timeout=TIMEOUT_S, env=os.environ.copy())


@pytest.fixture
def uri(tmp_path):
    return f"mmap://{tmp_path}/queue"


def test_python_message_read_by_cpp_example_consumer(uri):
    consumer = example("consumer")
    msg = (mes.MessageBuilder().with_msg_type(mes.MessageType.COMPLETE).with_creator_type("labeler")
           .with_topic("Cool-New-Topic").with_user_msg("built in Python").build())
    with orc.Producer(orc.Orchestration(uri)) as prod:
        prod.send(msg, flush=True)
    done = subprocess.run([consumer, uri], capture_output=True, text=True, timeout=TIMEOUT_S)
    assert done.returncode == 0, done.stderr
    assert "annotation Cool-New-Topic built in Python" in done.stdout
    assert "received 1 message(s)" in done.stdout


def test_cpp_example_producer_message_read_in_python(uri):
    producer = example("producer")
    done = subprocess.run([producer, uri], capture_output=True, text=True, timeout=TIMEOUT_S)
    assert done.returncode == 0, done.stderr
    with orc.Consumer("Cool-New-Topic", orc.Orchestration(uri), group_id="python") as con:
        got = receive_until(con, 1)
    assert len(got) == 1
    msg = got[0]
    assert msg.message_type is mes.MessageType.START
    assert msg.creator_type == "mlops" and msg.creator == "ETL"
    assert msg.user_message == "Hello World" and msg.next_task == "Train" and msg.stage is None


def test_python_to_python_process(uri):
    sent = seed_message(topic="Cool-New-Topic", stage=mes.Stages.TRAIN,
                        additional_data={"epochs": 3, "layers": [64, 32]})
    with orc.Producer(orc.Orchestration(uri)) as prod:
        prod.send(sent, flush=True)
    done = run_python("""
        import sys
        import mlops.messaging as mes
        import mlops.orchestration as orc
        con = orc.Consumer("Cool-New-Topic", orc.Orchestration(sys.argv[1]), group_id="child")
        msgs = []
        for _ in range(50):
            msgs += con.receive(timeout=200)
            if msgs:
                break
        con.commit()
        msg = msgs[0]
        print(msg.id, msg.stage.name, msg.additional_data, msg.user_message)
        """, uri)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"{sent.id} TRAIN {{'epochs': 3, 'layers': [64, 32]}} Hello World"


def test_other_process_to_python(uri):
    done = run_python("""
        import sys
        import mlops.messaging as mes
        import mlops.orchestration as orc
        with orc.Producer(orc.Orchestration(sys.argv[1]), "Sick-Topic") as prod:
            msg = (mes.MessageBuilder().with_msg_type(mes.MessageType.FAIL).with_retries(2)
                   .with_output(["/a", "/b"]).with_additional_data("oops").build())
            prod.send(msg, flush=True)
            print(msg.id)
        """, uri)
    assert done.returncode == 0, done.stderr
    with orc.Consumer("Sick-Topic", orc.Orchestration(uri)) as con:
        got = receive_until(con, 1)
    assert len(got) == 1
    msg = got[0]
    assert msg.id == done.stdout.strip()
    assert msg.message_type is mes.MessageType.FAIL and msg.retries == 2
    assert msg.output == ["/a", "/b"] and msg.additional_data == "oops"
