"""Consumer.retry and Consumer.dead_letter over inproc and mmap."""

import time

import pytest

import mlops.messaging as mes
import mlops.orchestration as orc
from conftest import receive_until, seed_message


def test_retry_comes_back_after_its_delay_then_dead_letters(orch):
    prod = orc.Producer(orch, "jobs")
    con = orc.Consumer("jobs", orch, group_id="stage", max_retries=1)
    dlq = orc.Consumer("jobs.dlq", orch, group_id="inspect")
    prod.send(seed_message("evaluate"))
    (msg,) = receive_until(con, 1)
    started = time.monotonic()
    con.retry(msg, delay_ms=200, reason="GPU preempted")
    con.commit()
    (again,) = receive_until(con, 1)
    assert time.monotonic() - started >= 0.2
    assert again.retries == 1
    assert again.get_additional_argument("mlops.retry_reason") == "GPU preempted"
    con.retry(again, delay_ms=10, reason="still preempted")  # over max_retries=1
    con.commit()
    (letter,) = receive_until(dlq, 1)
    assert letter.get_additional_argument("mlops.dlq_reason") == "still preempted"
    assert letter.get_additional_argument("mlops.dlq_topic") == "jobs"
    assert con.stats()["retried"] == 1 and con.stats()["dead_lettered"] == 1


def test_dead_letter_and_bad_arguments(orch):
    prod = orc.Producer(orch, "work")
    con = orc.Consumer("work", orch, group_id="stage")
    dlq = orc.Consumer("work.dlq", orch, group_id="inspect")
    prod.send(seed_message("bad file"))
    (msg,) = receive_until(con, 1)
    with pytest.raises((ValueError, TypeError)):
        con.retry(msg, delay_ms=-1)
    with pytest.raises(TypeError):
        con.dead_letter("not a message", "why")
    con.dead_letter(msg, "no such file")
    con.commit()
    (letter,) = receive_until(dlq, 1)
    assert letter.user_message == "bad file"
    assert isinstance(letter.get_additional_argument("mlops.dlq_time_ns"), int)
    con.close()
    with pytest.raises(orc.ClosedError):
        con.dead_letter(msg, "closed")
