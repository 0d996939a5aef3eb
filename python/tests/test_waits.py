"""Issue 21's waits: huge or infinite timeouts (item 4), a dropped Producer that froze every
thread (item 5), close() and signals that could not reach a blocked call (item 6).

A thread that must still be waiting is checked with join(timeout): a deadline, after which a
call that returned at once (the fault) is seen as a thread that ended."""

import os
import signal
import threading
import time

import pytest

import mlops.orchestration as orc
from conftest import assert_clean_exit, kafka_orchestration, run_script, seed_message

HUGE_TIMEOUTS = [float("inf"), 1e13, 2**62, 2**63, 2**100]
STILL_WAITING_S = 0.5


class Call(threading.Thread):
    """Runs fn(*args) in a thread; .result or .error afterwards."""

    def __init__(self, fn, *args, **kwargs):
        super().__init__(daemon=True)
        self.fn, self.args, self.kwargs = fn, args, kwargs
        self.result = self.error = None

    def run(self):
        try:
            self.result = self.fn(*self.args, **self.kwargs)
        except BaseException as error:  # noqa: B036 - reported to the test
            self.error = error

    def assert_still_waiting(self):
        self.join(timeout=STILL_WAITING_S)
        assert self.is_alive(), f"returned at once: result {self.result!r}, error {self.error!r}"

    def finish(self, within_s=5.0):
        start = time.monotonic()
        self.join(timeout=within_s)
        assert not self.is_alive(), f"still waiting after {within_s} s"
        return time.monotonic() - start


@pytest.fixture
def full_topic():
    """A producer without time limit on a topic of one message that a group never reads."""
    orch = orc.Orchestration(f"inproc://full-{os.getpid()}-{time.monotonic_ns()}?max_messages=1")
    slow = orc.Consumer("Cool-New-Topic", orch, group_id="slow")
    prod = orc.Producer(orch, "Cool-New-Topic", send_timeout_ms=float("inf"))
    prod.send(seed_message("fills the topic"))
    return prod, slow


@pytest.mark.parametrize("timeout", HUGE_TIMEOUTS, ids=str)
def test_huge_receive_timeout_waits_instead_of_returning_at_once(inproc, timeout):
    con = orc.Consumer("Cool-New-Topic", inproc)
    waiting = Call(con.receive, timeout=timeout)
    waiting.start()
    waiting.assert_still_waiting()
    orc.Producer(inproc, "Cool-New-Topic").send(seed_message("wake up"))
    waiting.finish()
    assert waiting.error is None and [m.user_message for m in waiting.result] == ["wake up"]


@pytest.mark.parametrize("timeout", HUGE_TIMEOUTS, ids=str)
def test_huge_send_timeout_waits_for_room_instead_of_raising_back_pressure(timeout):
    orch = orc.Orchestration(f"inproc://room-{os.getpid()}-{time.monotonic_ns()}?max_messages=1")
    slow = orc.Consumer("Cool-New-Topic", orch, group_id="slow")
    prod = orc.Producer(orch, "Cool-New-Topic", send_timeout_ms=timeout)
    prod.send(seed_message("first"))
    waiting = Call(prod.send, seed_message("second"))
    waiting.start()
    waiting.assert_still_waiting()
    assert [m.user_message for m in slow.receive(timeout=1000)] == ["first"]
    slow.commit()  # makes room
    waiting.finish()
    assert waiting.error is None
    assert [m.user_message for m in slow.receive(timeout=1000)] == ["second"]
    # Waiting in slices is not back-pressure: only sends that gave up count.
    assert prod.stats() == {"sent": 2, "back_pressured": 0, "failed": 0}


def test_send_to_several_topics_waiting_for_one_gives_no_topic_a_second_copy():
    # The wait runs in slices; a slice that runs out on one topic is retried for that topic
    # alone, not for the topics that already took the message.
    orch = orc.Orchestration(f"inproc://several-{os.getpid()}-{time.monotonic_ns()}")
    admin = orc.Admin(orch)
    admin.create_topic("Full-Topic", max_messages=1)
    roomy = orc.Consumer("Roomy-Topic", orch, group_id="roomy")
    full = orc.Consumer("Full-Topic", orch, group_id="slow")
    prod = orc.Producer(orch, send_timeout_ms=float("inf"))
    prod.send(seed_message("first", topic="Full-Topic"))
    waiting = Call(prod.send, seed_message("both", topic=["Roomy-Topic", "Full-Topic"]))
    waiting.start()
    waiting.assert_still_waiting()  # ten slices and more have run out on Full-Topic
    assert [m.user_message for m in full.receive(timeout=1000)] == ["first"]
    full.commit()
    waiting.finish()
    assert waiting.error is None
    assert [m.user_message for m in full.receive(timeout=1000)] == ["both"]
    assert [m.user_message for m in roomy.receive(timeout=1000)] == ["both"]
    assert roomy.receive(timeout=100) == []
    assert prod.stats() == {"sent": 3, "back_pressured": 0, "failed": 0}


def test_huge_flush_timeouts_and_none_are_accepted(inproc):
    prod = orc.Producer(inproc, "Cool-New-Topic", flush_timeout_ms=float("inf"))
    prod.send(seed_message(), flush=True)
    prod.flush(None)
    prod.flush(2**100)
    assert orc.Admin(inproc).validate_connection(float("inf"))
    prod.close()
    assert prod.closed


@pytest.mark.parametrize("timeout", [4000, float("inf")], ids=str)
def test_close_from_another_thread_ends_a_blocked_receive_at_once(inproc, timeout):
    con = orc.Consumer("Cool-New-Topic", inproc)
    waiting = Call(con.receive, timeout=timeout)
    waiting.start()
    waiting.assert_still_waiting()
    start = time.monotonic()
    con.close()
    waiting.finish()
    assert time.monotonic() - start < 1.0  # one slice: 50 ms
    assert isinstance(waiting.error, orc.ClosedError)
    assert con.closed


def test_close_from_another_thread_ends_a_send_waiting_for_room(full_topic):
    prod, _ = full_topic
    waiting = Call(prod.send, seed_message("never sent"))
    waiting.start()
    waiting.assert_still_waiting()
    start = time.monotonic()
    prod.close()
    waiting.finish()
    assert time.monotonic() - start < 1.0
    assert isinstance(waiting.error, orc.ClosedError)


class Interrupted(Exception):
    pass


@pytest.fixture
def alarm():
    """alarm(seconds): SIGALRM then, whose handler raises Interrupted as Ctrl-C's raises
    KeyboardInterrupt (pytest keeps SIGINT for itself)."""
    def handler(signum, frame):
        raise Interrupted()

    previous = signal.signal(signal.SIGALRM, handler)
    yield lambda seconds: signal.setitimer(signal.ITIMER_REAL, seconds)
    signal.setitimer(signal.ITIMER_REAL, 0)
    signal.signal(signal.SIGALRM, previous)


def test_signal_during_receive_is_raised_within_a_slice(inproc, alarm):
    con = orc.Consumer("Cool-New-Topic", inproc)
    start = time.monotonic()
    alarm(0.2)
    with pytest.raises(Interrupted):
        con.receive(timeout=5000)
    assert time.monotonic() - start < 1.5  # the whole 5 s before


def test_ctrl_c_during_receive_raises_keyboard_interrupt_within_a_slice():
    # Ctrl-C itself, in a fresh interpreter: SIGALRM with Python's SIGINT handler.
    done = run_script("""
        import os, signal, time
        import mlops.orchestration as orc
        con = orc.Consumer("Cool-New-Topic", orc.Orchestration(f"inproc://ctrl-c-{os.getpid()}"))
        signal.signal(signal.SIGALRM, signal.default_int_handler)
        start = time.monotonic()
        signal.setitimer(signal.ITIMER_REAL, 0.2)
        try:
            con.receive(timeout=5000)
        except KeyboardInterrupt:
            print("KeyboardInterrupt after", round(time.monotonic() - start, 1))
    """)
    assert_clean_exit(done)
    words = done.stdout.split()
    assert words[:2] == ["KeyboardInterrupt", "after"] and float(words[2]) < 1.5, done.stdout


def test_signal_during_send_waiting_for_room_is_raised_within_a_slice(full_topic, alarm):
    prod, _ = full_topic
    start = time.monotonic()
    alarm(0.2)
    with pytest.raises(Interrupted):
        prod.send(seed_message("never sent"))
    assert time.monotonic() - start < 1.5  # forever before
    assert prod.stats()["sent"] == 1


def test_signal_during_flush_to_an_unreachable_broker_is_raised_within_a_slice(alarm):
    prod = orc.Producer(kafka_orchestration(), "Cool-New-Topic", flush_timeout_ms=0)
    prod.send(seed_message())  # queued: nothing can deliver it
    start = time.monotonic()
    alarm(0.2)
    with pytest.raises(Interrupted):
        prod.flush(timeout_ms=5000)
    assert time.monotonic() - start < 1.5
    prod.close()


def test_validate_connection_keeps_trying_until_its_timeout_in_slices(alarm):
    # Slices must not turn "no answer within 50 ms" into the answer: a broker that comes up
    # within the timeout counts. An admin that refuses at once (closed) is the answer at once.
    admin = orc.Admin(kafka_orchestration())
    start = time.monotonic()
    assert admin.validate_connection(1000) is False
    assert 0.9 <= time.monotonic() - start < 3
    alarm(0.2)
    with pytest.raises(Interrupted):
        admin.validate_connection(float("inf"))
    admin.close()
    start = time.monotonic()
    assert admin.validate_connection(5000) is False
    assert time.monotonic() - start < 1


def test_dropping_an_unflushed_producer_lets_other_threads_run():
    # The destructor flushes up to flush_timeout_ms (a broker that never answers: all of it);
    # it held the GIL for that long, so no other Python thread ran.
    prod = orc.Producer(kafka_orchestration(), "Cool-New-Topic", flush_timeout_ms=1500)
    prod.send(seed_message())
    long_gaps = []  # (before, after) of every pause over 50 ms in the other thread's ticking
    stop = threading.Event()
    ticking = threading.Event()

    def tick():
        last = time.monotonic()
        ticking.set()
        while not stop.is_set():
            now = time.monotonic()
            if now - last > 0.05:
                long_gaps.append((last, now))
            last = now
        long_gaps.append((last, time.monotonic()))  # a pause that lasted until the end

    ticker = threading.Thread(target=tick)
    ticker.start()
    ticking.wait(timeout=10)
    start = time.monotonic()
    del prod
    end = time.monotonic()
    stop.set()
    ticker.join(timeout=10)
    during = [after - before for before, after in long_gaps if after > start and before < end]
    assert end - start >= 1.0, "the drop did not flush"
    assert max(during, default=0) < 0.5, f"other threads stood still for {max(during):.2f} s"


def test_filter_rejecting_everything_waits_until_the_timeout(inproc):
    # The filter runs after each slice: a rejected batch is waited past, not returned empty.
    prod = orc.Producer(inproc, "Cool-New-Topic")
    con = orc.Consumer("Cool-New-Topic", inproc)
    prod.send(seed_message("rejected"))
    sent_second = []

    def accept_the_second(msg):
        if msg.user_message == "rejected":
            prod.send(seed_message("accepted"))
            sent_second.append(True)
            return False
        return True

    got = con.receive(accept_the_second, timeout=float("inf"))
    assert sent_second and [m.user_message for m in got] == ["accepted"]
    assert con.stats()["filtered_out"] == 1 and con.stats()["received"] == 1

