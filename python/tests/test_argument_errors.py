"""Issue 21 item 8: bad arguments raise a TypeError (wrong type) or a ValueError (wrong value)
that names the argument, not pybind11's "Unable to cast Python instance to C++ type"."""

import pytest

import mlops.messaging as mes
import mlops.orchestration as orc


@pytest.fixture
def con(inproc):
    return orc.Consumer("Cool-New-Topic", inproc)


CASES = [
    # (call, exception, words the message must hold)
    (lambda o, c: mes.MessageBuilder().with_timestamp(None), TypeError, "unix_ns"),
    (lambda o, c: mes.MessageBuilder().with_timestamp("x"), TypeError, "unix_ns"),
    (lambda o, c: mes.MessageBuilder().with_timestamp(1.5), TypeError, "unix_ns"),
    (lambda o, c: mes.MessageBuilder().with_timestamp(True), TypeError, "unix_ns"),
    (lambda o, c: mes.MessageBuilder().with_timestamp(2**100), ValueError, "unix_ns"),
    (lambda o, c: c.receive(timeout=0, max_records=-1), ValueError, "max_records"),
    (lambda o, c: c.receive(timeout=0, max_records=0), ValueError, "max_records"),
    (lambda o, c: c.receive(timeout=0, max_records="x"), TypeError, "max_records"),
    (lambda o, c: c.receive(timeout=0, max_records=1.5), TypeError, "max_records"),
    (lambda o, c: c.receive(timeout="x"), TypeError, "timeout"),
    (lambda o, c: c.receive(timeout=-1), ValueError, "timeout"),
    (lambda o, c: c.receive(timeout=float("nan")), ValueError, "timeout"),
    (lambda o, c: c.receive(timeout=True), TypeError, "timeout"),
    (lambda o, c: c.receive(5, timeout=0), TypeError, "filter"),
    (lambda o, c: orc.Consumer("t", o, max_poll_records="x"), TypeError, "max_poll_records"),
    (lambda o, c: orc.Consumer("t", o, max_poll_records=0), ValueError, "max_poll_records"),
    (lambda o, c: orc.Consumer({"a": 1}, o), TypeError, "subscription"),
    (lambda o, c: orc.Consumer("t", o, group_id=5), TypeError, "group_id"),
    (lambda o, c: orc.Orchestration(5), TypeError, "uri"),
    (lambda o, c: orc.Producer(5, "t"), TypeError, "orchestration"),
    (lambda o, c: orc.Consumer("t", 5), TypeError, "orchestration"),
    (lambda o, c: orc.Admin(5), TypeError, "orchestration"),
    (lambda o, c: orc.Producer(o, {"a": 1}), TypeError, "topic"),
    (lambda o, c: orc.Producer(o, b"t"), TypeError, "topic"),
    (lambda o, c: orc.Producer(o, ["a", 1]), TypeError, "topic"),
    (lambda o, c: orc.Producer(o, 5), TypeError, "topic"),
    (lambda o, c: orc.Producer(o, "t", send_timeout_ms="x"), TypeError, "send_timeout_ms"),
    (lambda o, c: orc.Producer(o, "t", flush_timeout_ms=-5), ValueError, "flush_timeout_ms"),
    (lambda o, c: orc.Producer(o, "t").flush(timeout_ms="x"), TypeError, "timeout_ms"),
    (lambda o, c: orc.Producer(o, "t").send("not a message"), TypeError, "message"),
    (lambda o, c: orc.Producer(o, "t").send_raw("t", 5), TypeError, "data"),
    (lambda o, c: orc.Producer(o, "t").send_raw("t", memoryview(b"abcd")[::-1]), TypeError, "contiguous"),
    (lambda o, c: c.subscribe({"a": 1}), TypeError, "topics"),
    (lambda o, c: orc.Admin(o).create_topic("t", -1), ValueError, "max_messages"),
    (lambda o, c: orc.Admin(o).create_topic("t", max_bytes="x"), TypeError, "max_bytes"),
    (lambda o, c: orc.Admin(o).validate_connection("x"), TypeError, "timeout_ms"),
    (lambda o, c: mes.MLOpsMessage.from_bytes(5), TypeError, "data"),
    (lambda o, c: mes.MessageBuilder().with_additional_data({"b": memoryview(b"ab")[::-1]}).build(),
     TypeError, "contiguous"),
]


@pytest.mark.parametrize("call, error, words", CASES, ids=[f"case{i}" for i in range(len(CASES))])
def test_bad_argument_raises_an_error_naming_it(inproc, con, call, error, words):
    with pytest.raises(error) as info:
        call(inproc, con)
    assert words in str(info.value)
    assert "Unable to cast" not in str(info.value)


def test_retries_and_timestamp_refuse_bools_alike():
    with pytest.raises(TypeError):
        mes.MessageBuilder().with_retries(True)
    with pytest.raises(TypeError):
        mes.MessageBuilder().with_timestamp(True)
    assert mes.MessageBuilder().with_timestamp(-5).build().timestamp == -5


def test_huge_counts_mean_no_limit(inproc):
    prod = orc.Producer(inproc, "Cool-New-Topic")
    con = orc.Consumer("Cool-New-Topic", inproc, max_poll_records=2**70)
    for _ in range(3):
        prod.send(mes.MessageBuilder().build())
    assert len(con.receive(timeout=1000, max_records=2**70)) == 3


def test_topics_may_be_any_iterable_of_str(inproc):
    assert orc.Producer(inproc, ("a", "b")).topics == ["a", "b"]
    assert orc.Producer(inproc, (t for t in ["c"])).topics == ["c"]
    assert orc.Consumer(iter(["a"]), inproc).get_subscriptions() == ["a"]
