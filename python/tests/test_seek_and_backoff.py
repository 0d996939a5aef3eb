"""Consumer.seek (replay) and Backoff over inproc and mmap."""

import datetime

import pytest

import mlops.orchestration as orc
from conftest import receive_until, seed_message

HOUR_NS = 3600 * 10**9


def send_spread(prod, count, base_ns):
    """Messages "0".."count-1" stamped base_ns, +1 s, ...; returns them."""
    sent = [seed_message(str(i), timestamp=base_ns + i * 10**9) for i in range(count)]
    for msg in sent:
        prod.send(msg)
    prod.flush()
    return sent


def names(messages):
    return sorted(m.user_message for m in messages)


def test_seek_time_starts_at_the_first_message_at_or_after_it(orch):
    prod = orc.Producer(orch, "frames")
    con = orc.Consumer("frames", orch, group_id="stage", enable_auto_commit=False)
    now = datetime.datetime.now(datetime.timezone.utc)
    base_ns = int(now.timestamp()) * 10**9 - HOUR_NS
    send_spread(prod, 10, base_ns)
    assert len(receive_until(con, 10)) == 10
    start = datetime.datetime.fromtimestamp((base_ns + 6_500_000_000) / 1e9, datetime.timezone.utc)
    con.seek("frames", time=start)
    got = receive_until(con, 3)
    assert [m.user_message for m in got] == ["7", "8", "9"]
    assert con.receive(timeout=200) == []
    assert con.stats()["replay_skipped"] == 7


def test_seek_moves_the_group_for_new_and_restarted_members(orch):
    """One member's seek moves the group: a member that joins afterwards, and one restarted
    without a commit, start at the first message at or after the time (or after the id)."""
    prod = orc.Producer(orch, "frames")
    keeper = orc.Consumer("frames", orch, group_id="keeper")  # inproc frees what all groups committed
    first = orc.Consumer("frames", orch, group_id="stage")
    now = datetime.datetime.now(datetime.timezone.utc)
    base_ns = int(now.timestamp()) * 10**9 - HOUR_NS
    sent = send_spread(prod, 10, base_ns)
    assert len(receive_until(first, 10)) == 10
    first.commit()
    start = datetime.datetime.fromtimestamp((base_ns + 6_500_000_000) / 1e9, datetime.timezone.utc)
    first.seek("frames", time=start)
    second = orc.Consumer("frames", orch, group_id="stage", enable_auto_commit=False)
    assert [m.user_message for m in receive_until(second, 3)] == ["7", "8", "9"]
    assert second.receive(timeout=200) == []
    assert second.stats()["replay_skipped"] == 0  # the group moved; nobody skips
    second.close()  # without a commit
    restarted = orc.Consumer("frames", orch, group_id="stage")
    assert names(receive_until(restarted, 3)) == ["7", "8", "9"]
    restarted.commit()
    restarted.close()
    first.seek("frames", after=sent[7].id)
    third = orc.Consumer("frames", orch, group_id="stage")
    assert names(receive_until(third, 2)) == ["8", "9"]
    assert third.receive(timeout=200) == []
    for con in (third, first, keeper):
        con.close()


def test_seek_earliest_latest_and_after(orch):
    prod = orc.Producer(orch, "jobs")
    keeper = orc.Consumer("jobs", orch, group_id="keeper")  # inproc frees what all groups committed
    con = orc.Consumer("jobs", orch, group_id="stage")
    sent = send_spread(prod, 4, 0)
    assert len(receive_until(con, 4)) == 4
    con.commit()
    con.seek("jobs", "earliest")
    assert names(receive_until(con, 4)) == ["0", "1", "2", "3"]
    con.seek("jobs", after=sent[1].id)
    assert names(receive_until(con, 2)) == ["2", "3"]
    con.seek("jobs", after=sent[2])  # a message stands for its id
    assert names(receive_until(con, 1)) == ["3"]
    con.seek("jobs", "latest")
    assert con.receive(timeout=200) == []
    prod.send(seed_message("new"))
    assert names(receive_until(con, 1)) == ["new"]
    keeper.close()


def test_seek_refuses_hostile_input_with_the_reason(orch):
    con = orc.Consumer("jobs", orch, group_id="stage")
    future = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=1)
    with pytest.raises(orc.InvalidArgumentError, match="future"):
        con.seek("jobs", time=future)
    with pytest.raises(orc.InvalidArgumentError, match="future"):
        con.seek("jobs", time=datetime.datetime.max.replace(tzinfo=datetime.timezone.utc))
    with pytest.raises(orc.InvalidArgumentError, match="not subscribed"):
        con.seek("elsewhere", "earliest")
    with pytest.raises(ValueError, match="not 'earliest'"):
        con.seek("jobs", "yesterday")
    with pytest.raises(ValueError, match="not a message id"):
        con.seek("jobs", after="not-a-uuid")
    with pytest.raises(TypeError):
        con.seek("jobs")  # neither
    with pytest.raises(TypeError):
        con.seek("jobs", "earliest", after="0190b1c2-d3e4-7f00-8a1b-2c3d4e5f6a7b")  # both
    with pytest.raises(TypeError):
        con.seek("jobs", time=12345)
    # Before the epoch and the first representable datetime: before every message.
    con.seek("jobs", time=datetime.datetime.min.replace(tzinfo=datetime.timezone.utc))
    con.seek("jobs", time=datetime.datetime(1900, 1, 1, tzinfo=datetime.timezone.utc))
    con.close()
    with pytest.raises(orc.ClosedError):
        con.seek("jobs", "earliest")


def test_backoff_mirrors_the_cpp_one():
    exact = orc.Backoff(initial_ms=100, multiplier=2, max_ms=1000, jitter=0)
    assert [exact.delay_for(n) for n in (0, 1, 3, 4, 10**12, -5)] == [100, 200, 800, 1000, 1000, 100]
    jittery = orc.Backoff(initial_ms=1000, multiplier=1, max_ms=1000, jitter=0.2)
    delays = {jittery.delay_for(0) for _ in range(200)}
    assert min(delays) >= 800 and max(delays) <= 1200 and len(delays) > 1
    odd = orc.Backoff(initial_ms=-5, multiplier=-3, max_ms=-1, jitter=7)
    assert odd.delay_for(2) == 0
    default = orc.Backoff()
    assert (default.initial_ms, default.multiplier, default.max_ms, default.jitter) == (1000, 2.0, 300000, 0.2)
    assert "initial_ms=1000" in repr(default)
    with pytest.raises(TypeError):
        orc.Backoff(initial_ms="soon")


def test_retry_with_a_backoff_waits_its_delay(orch):
    import time
    prod = orc.Producer(orch, "jobs")
    con = orc.Consumer("jobs", orch, group_id="stage")
    prod.send(seed_message("evaluate"))
    (msg,) = receive_until(con, 1)
    backoff = orc.Backoff(initial_ms=100, multiplier=3, max_ms=1000, jitter=0)
    started = time.monotonic()
    con.retry(msg, backoff, reason="flaky")
    con.commit()
    (again,) = receive_until(con, 1)
    assert time.monotonic() - started >= 0.1
    started = time.monotonic()
    con.retry(again, backoff, reason="flaky")  # retries 1: 300 ms
    con.commit()
    (third,) = receive_until(con, 1)
    assert time.monotonic() - started >= 0.3
    assert third.retries == 2
    assert third.get_additional_argument("mlops.retry_reason") == "flaky"
