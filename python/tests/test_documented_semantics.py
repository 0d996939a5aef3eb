"""Issue 21 item 9: docstrings that disagreed with the code, equality by bytes, and small
semantics that are now either fixed or stated where the user looks."""

import copy
import os

import pytest

import mlops.messaging as mes
import mlops.orchestration as orc
from conftest import seed_message


def test_default_orchestration_is_mmap_as_the_docstrings_say(tmp_path, monkeypatch):
    monkeypatch.delenv("MLOPS_ORCHESTRATION", raising=False)
    monkeypatch.chdir(tmp_path)
    assert orc.Orchestration().uri == orc.Orchestration.detect().uri
    assert orc.Orchestration().orchestrator == "mmap"
    assert "mmap://./.mlops" in orc.Orchestration.__doc__
    assert "mmap://./.mlops" in orc.Orchestration.detect.__doc__
    assert "inproc://default" not in orc.Orchestration.__doc__


@pytest.mark.parametrize("copier", [copy.copy, copy.deepcopy], ids=["copy", "deepcopy"])
def test_copies_of_an_orchestration_share_its_backend(inproc, copier):
    twin = copier(inproc)
    assert twin.uri == inproc.uri and twin is not inproc
    con = orc.Consumer("Cool-New-Topic", inproc)
    orc.Producer(twin, "Cool-New-Topic").send(seed_message("through the copy"))
    assert [m.user_message for m in con.receive(timeout=1000)] == ["through the copy"]


def test_json_round_trip_equals_the_message_for_list_topics():
    msg = seed_message(topic=["Cool-New-Topic", "Sick-Topic"], recipient=["a"],
                       additional_data={"x": [1, 2.5, None, {"y": "z"}], "nan": float("nan")})
    back = mes.MLOpsMessage.from_json(msg.to_json_text())
    assert bytes(back) != bytes(msg)  # laid out differently by the JSON parser
    assert back == msg and hash(back) == hash(msg)
    assert back.topic == ["Cool-New-Topic", "Sick-Topic"] and back.recipient == ["a"]
    assert msg == msg  # NaN inside: a message still equals itself
    assert {msg, back} == {msg}


def test_messages_differing_in_one_field_are_not_equal():
    msg = seed_message(topic=["Cool-New-Topic"])
    same_but = mes.MessageBuilder.from_message(msg)
    assert msg != mes.MLOpsMessage.from_json(msg.to_json_text().replace("Hello World", "Hello Moon"))
    assert msg != mes.MLOpsMessage.from_json(msg.to_json_text().replace(',"list_fields": "topic"', ""))
    assert msg != same_but.build()  # a new id and timestamp
    keyed = mes.MessageBuilder().with_key("a").build()
    assert keyed != mes.MLOpsMessage.from_json(keyed.to_json_text().replace('"key": "a"', '"key": "b"'))
    assert msg != "not a message"


def test_bytes_value_reads_back_from_json_as_surrogate_escaped_text():
    # Deliberate, and documented in to_json's docstring and python/README.md: JSON has no
    # bytes, and a message read from JSON cannot tell bytes from text.
    msg = mes.MessageBuilder().with_additional_data({"b": b"\x00\xff"}).build()
    back = mes.MLOpsMessage.from_json(msg.to_json_text())
    assert back.additional_data == {"b": "\x00\udcff"}
    assert back.additional_data["b"].encode("utf-8", "surrogateescape") == b"\x00\xff"
    assert "surrogateescape" in mes.MLOpsMessage.to_json_text.__doc__


def test_closed_consumer_raises_closed_error_for_every_call(inproc):
    con = orc.Consumer("Cool-New-Topic", inproc)
    con.close()
    for call in (lambda: con.subscribe("Sick-Topic"), con.unsubscribe, con.commit,
                 lambda: con.receive(timeout=0)):
        with pytest.raises(orc.ClosedError) as info:
            call()
        assert info.value.status == "closed"
    assert con.get_subscriptions() == ["Cool-New-Topic"]


def test_mmap_orchestration_creates_its_directory_when_opened(tmp_path):
    # Deliberate, and documented in Orchestration's docstring and python/README.md: an
    # unusable path fails when the orchestration is made, not at the first send.
    target = tmp_path / "nonexistent" / "x" / "y"
    orc.Orchestration.from_uri(f"mmap://{target}")
    assert target.is_dir()
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    with pytest.raises(orc.OrchestrationError):
        orc.Orchestration(f"mmap://{blocker}/queue")
    assert "creates its" in orc.Orchestration.__doc__ and os.path.isfile(blocker)
