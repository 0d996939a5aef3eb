"""Admin.lag(): committed position, end and lag per topic and group (mmap keeps them;
inproc says it keeps none)."""
import pytest

import mlops.orchestration as orc
from conftest import receive_until, seed_message


def test_lag_before_and_after_a_commit(tmp_path):
    orch = orc.Orchestration(f"mmap://{tmp_path}/queue")
    producer = orc.Producer(orch, "lagged")
    for _ in range(3):
        producer.send(seed_message(), flush=True)
    consumer = orc.Consumer("lagged", orch, group="g1", auto_commit=False)
    assert len(receive_until(consumer, 1, max_records=1)) == 1
    admin = orc.Admin(orch)
    (topic,) = admin.lag("lagged")
    assert topic["topic"] == "lagged" and topic["messages"] == 3 and topic["bytes"] > 0
    (group,) = topic["groups"]
    assert group["group"] == "g1" and group["lag"] == 3
    consumer.commit()
    (group,) = admin.lag("lagged", groups=["g1"])[0]["groups"]
    assert group["lag"] == 2 and group["committed"] <= topic["end"]
    assert admin.lag("lagged", groups=[])[0]["groups"] == []
    with pytest.raises(orc.OrchestrationError):
        admin.lag("no-such-topic")
    consumer.close()


def test_lag_on_a_backend_without_positions():
    admin = orc.Admin(orc.Orchestration("inproc://lagless"))
    with pytest.raises(orc.OrchestrationError):
        admin.lag()
