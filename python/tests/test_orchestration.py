"""mlops.orchestration over inproc and mmap: the original's producer/consumer tests and more."""

import threading
import time

import pytest

import mlops.messaging as mes
import mlops.orchestration as orc
from conftest import receive_until, seed_message


def test_builder_and_properties():
    orch = orc.OrchestrationBuilder().with_orchestrator("inproc").with_connection("builder-test").build()
    assert orch.orchestrator == "inproc"
    assert orch.connection == "builder-test"
    assert orch.uri == "inproc://builder-test"
    with pytest.raises(orc.InvalidArgumentError) as info:
        orc.OrchestrationBuilder().with_orchestrator("carrier-pigeon").build()
    assert isinstance(info.value, ValueError) and "carrier-pigeon" in str(info.value)
    with pytest.raises(ValueError):
        orc.Orchestration("not a uri")


def test_producer_and_consumer(orch):
    prod = orc.Producer(orch, "Cool-New-Topic")
    con = orc.Consumer("Cool-New-Topic", orch, group_id="test-group", auto_offset_reset="earliest")
    sent = [seed_message(f"message {i}") for i in range(5)]
    for msg in sent:
        prod.send(msg)
    prod.flush()
    got = receive_until(con, len(sent))
    assert [m.user_message for m in got] == [m.user_message for m in sent]
    assert [m.id for m in got] == [m.id for m in sent]
    assert got[0].creator_type == "mlops" and got[0].next_task == "Train"
    con.commit()
    prod.close()
    con.close()


def test_message_topic_wins_and_filter_on_topic(orch):
    prod = orc.Producer(orch, "Cool-New-Topic")
    con = orc.Consumer(["Cool-New-Topic", "Sick-Topic"], orch, group_id="filter")
    everything = orc.Consumer(["Cool-New-Topic", "Sick-Topic"], orch, group_id="all")
    prod.send(seed_message("cool", topic="Cool-New-Topic"))
    prod.send(seed_message("sick", topic="Sick-Topic"))
    prod.send(seed_message("both", topic=["Cool-New-Topic", "Sick-Topic"]), flush=True)

    def is_cool(msg):
        return msg.topic == "Cool-New-Topic"

    cool = receive_until(con, 1, filter=is_cool)
    cool += con.receive(is_cool, timeout=100)
    assert [m.user_message for m in cool] == ["cool"]
    assert con.stats()["filtered_out"] == 3

    got = receive_until(everything, 4)
    assert sorted(m.user_message for m in got) == ["both", "both", "cool", "sick"]


def test_quiet_topic_gives_empty_list(orch):
    orc.Producer(orch, "Cool-New-Topic").send(seed_message(), flush=True)
    con = orc.Consumer("Sick-Topic", orch)
    start = time.monotonic()
    assert con.receive(timeout=100) == []
    assert time.monotonic() - start < 5


def test_subscriptions(orch):
    con = orc.Consumer("Cool-New-Topic", orch)
    assert con.get_subscriptions() == ["Cool-New-Topic"]
    con.subscribe("Sick-Topic", override=False)
    assert con.get_subscriptions() == ["Cool-New-Topic", "Sick-Topic"]
    con.subscribe(["Sick-Topic"])
    assert con.get_subscriptions() == ["Sick-Topic"]
    con.unsubscribe()
    assert con.get_subscriptions() == []
    assert con.receive(timeout=50) == []
    with pytest.raises(orc.InvalidArgumentError):
        con.subscribe("no spaces allowed")


def test_context_managers_close(orch):
    with orc.Producer(orch, "Cool-New-Topic") as prod, orc.Consumer("Cool-New-Topic", orch) as con, \
            orc.Admin(orch) as admin:
        assert admin.validate_connection()
        prod.send(seed_message())
    assert prod.closed and con.closed
    with pytest.raises(orc.ClosedError) as info:
        prod.send(seed_message())
    assert info.value.status == "closed"
    with pytest.raises(orc.ClosedError):
        con.receive(timeout=10)
    prod.close()  # idempotent
    con.close()


def test_send_errors(inproc):
    with pytest.raises(orc.InvalidArgumentError):
        orc.Producer(inproc, "bad topic!")
    prod = orc.Producer(inproc)
    with pytest.raises(orc.InvalidArgumentError) as info:
        prod.send(seed_message())
    assert info.value.status == "no_topic"
    with pytest.raises(orc.InvalidArgumentError) as info:
        prod.send(seed_message(topic="bad topic!"))
    assert info.value.status == "invalid_topic"
    with pytest.raises(TypeError):
        prod.send("not a message")


def test_back_pressure_raises_or_returns_false():
    orch = orc.Orchestration(f"inproc://bp-{time.monotonic_ns()}?max_messages=2")
    con = orc.Consumer("Cool-New-Topic", orch, group_id="slow")  # a group that holds messages
    prod = orc.Producer(orch, "Cool-New-Topic", back_pressure="return")
    prod.send(seed_message())
    prod.send(seed_message())
    with pytest.raises(orc.BackPressureError) as info:
        prod.send(seed_message())
    assert info.value.status == "back_pressured"
    assert prod.try_send(seed_message()) is False
    blocking = orc.Producer(orch, "Cool-New-Topic", send_timeout_ms=20)
    with pytest.raises(orc.BackPressureError):
        blocking.send(seed_message())
    assert len(receive_until(con, 2)) == 2
    con.commit()
    assert prod.try_send(seed_message()) is True


def test_options_pass_through_and_validation(inproc, caplog):
    with pytest.raises(ValueError):
        orc.Consumer("Cool-New-Topic", inproc, auto_offset_reset="sideways")
    with caplog.at_level("WARNING", logger="mlops"):
        con = orc.Consumer("Cool-New-Topic", inproc, group_id="opts", max_poll_records=2,
                           enable_auto_commit=False, fetch_max_wait_ms=10)
    assert any("fetch_max_wait_ms" in r.getMessage() for r in caplog.records)
    prod = orc.Producer(inproc, "Cool-New-Topic", acks="all")
    for i in range(5):
        prod.send(seed_message(str(i)))
    assert len(con.receive(timeout=1000)) == 2  # max_poll_records


def test_latest_offset_skips_earlier_messages(orch):
    prod = orc.Producer(orch, "Cool-New-Topic")
    prod.send(seed_message("before"), flush=True)
    con = orc.Consumer("Cool-New-Topic", orch, group_id="late", auto_offset_reset="latest")
    assert con.receive(timeout=50) == []
    prod.send(seed_message("after"), flush=True)
    assert [m.user_message for m in receive_until(con, 1)] == ["after"]


def test_receive_releases_the_gil(inproc):
    con = orc.Consumer("Cool-New-Topic", inproc, group_id="gil")
    result = []
    waiter = threading.Thread(target=lambda: result.extend(con.receive(timeout=10_000)))
    start = time.monotonic()
    waiter.start()
    # This thread runs while the other waits inside receive(): the send wakes it.
    orc.Producer(inproc, "Cool-New-Topic").send(seed_message("wake up"))
    waiter.join(timeout=10)
    assert not waiter.is_alive()
    assert [m.user_message for m in result] == ["wake up"]
    assert time.monotonic() - start < 9


def test_filter_exception_propagates(inproc):
    orc.Producer(inproc, "Cool-New-Topic").send(seed_message())
    con = orc.Consumer("Cool-New-Topic", inproc)

    def broken(msg):
        raise KeyError("from the filter")

    with pytest.raises(KeyError, match="from the filter"):
        con.receive(broken, timeout=100)


def test_none_backend_never_fails():
    orch = orc.Orchestration("none:")
    assert orch.orchestrator == "none"
    orc.Producer(orch, "Cool-New-Topic").send(seed_message(), flush=True)
    assert orc.Consumer("Cool-New-Topic", orch).receive(timeout=10) == []
    assert orc.Admin(orch).validate_connection()


def test_admin_topics(orch):
    admin = orc.Admin(orch)
    admin.create_topic("Sick-Topic")
    assert "Sick-Topic" in admin.topics()
    with pytest.raises(orc.InvalidArgumentError):
        admin.create_topic("bad topic")
    admin.close()


def test_received_messages_outlive_the_consumer(orch):
    orc.Producer(orch, "Cool-New-Topic").send(seed_message(additional_data={"k": [1, 2]}), flush=True)
    con = orc.Consumer("Cool-New-Topic", orch)
    got = receive_until(con, 1)
    view = memoryview(got[0])
    con.close()
    del con
    assert got[0].additional_data == {"k": [1, 2]}
    assert mes.MLOpsMessage.from_bytes(view).user_message == "Hello World"


def test_foreign_payload_is_skipped_and_logged(orch, caplog):
    prod = orc.Producer(orch, "Cool-New-Topic")
    con = orc.Consumer("Cool-New-Topic", orch)
    prod.send_raw("Cool-New-Topic", b"{'json': 'from the old pipeline'}")
    prod.send(seed_message("after the junk"), flush=True)
    with caplog.at_level("WARNING", logger="mlops"):
        got = receive_until(con, 1)
    assert [m.user_message for m in got] == ["after the junk"]  # the original raised here
    assert con.stats()["skipped_corrupt"] == 1
    assert any(r.name == "mlops" for r in caplog.records)  # logged inside receive(), GIL released


def test_receive_and_send_arguments(inproc):
    prod = orc.Producer(inproc, "Cool-New-Topic")
    con = orc.Consumer("Cool-New-Topic", inproc)
    for i in range(3):
        prod.send(message=seed_message(str(i)), flush=(i == 2))
    assert len(con.receive(None, 1000, 2)) == 2
    assert len(con.recieve(filter=lambda m: True, timeout=1000, max_records=5)) == 1
    with pytest.raises(TypeError):
        con.receive(timeout=10, wait_forever=True)
    with pytest.raises(TypeError):
        con.receive(lambda m: True, 10, 1, "extra")
    with pytest.raises(TypeError):
        con.receive("not callable", timeout=10)
    with pytest.raises(TypeError):
        prod.send(seed_message(), flush=False, topic="x")


def test_one_producer_shared_by_threads(orch):
    prod = orc.Producer(orch, "Cool-New-Topic")
    con = orc.Consumer("Cool-New-Topic", orch, group_id="threads")
    threads = [threading.Thread(target=lambda t=t: [prod.send(seed_message(f"{t}-{i}")) for i in range(200)])
               for t in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    prod.flush()
    got = receive_until(con, 800)
    assert len({m.user_message for m in got}) == 800


def test_filter_may_use_its_own_consumer(inproc):
    # The filter runs after the consumer's wait, outside its lock: using the consumer there
    # neither deadlocks nor is refused.
    orc.Producer(inproc, "Cool-New-Topic").send(seed_message())
    con = orc.Consumer("Cool-New-Topic", inproc)
    got = con.receive(lambda msg: con.get_subscriptions() == ["Cool-New-Topic"], timeout=1000)
    assert [m.user_message for m in got] == ["Hello World"]
    con.commit()
    assert con.stats()["commits"] == 1


def test_repr_never_shows_a_password():
    orch = orc.Orchestration("inproc://repr-redaction?password=pw-secret")
    assert "pw-secret" not in repr(orch)
    assert "password=***" in repr(orch)
    assert "pw-secret" in orch.uri  # uri is for reopening the same endpoint
