"""MessageBuilder.build_message(**fields): the fluent chain in one call, with its behaviour."""

import pathlib

import pytest

import mlops.messaging as mes

ID = "018f3e5c-7b1a-7c3d-8e4f-0123456789ab"

EVERY_FIELD = dict(
    msg_type=mes.MessageType.COMPLETE,
    topic=["a", "b"],
    creator="trainer-7",
    creator_type="Fine Tuning",
    stage=mes.Stages.FINE_TUNE,
    next_task="Evaluate",
    user_msg="done",
    retries=3,
    output=pathlib.Path("/data/model.pt"),
    recipient="eval-team",
    additional_data={"lr": 0.001, "layers": [64, 32], "name": "resnet", "none": None},
    key="k1",
    trace_context="00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
    id=ID,
    timestamp=1_700_000_000_123_456_789,
)


def fluent(**fields):
    builder = mes.MessageBuilder()
    for name, value in fields.items():
        getattr(builder, f"with_{name}")(value)
    return builder.build()


def test_every_keyword_makes_what_the_fluent_chain_makes():
    one_call = mes.MessageBuilder.build_message(**EVERY_FIELD)
    assert one_call == fluent(**EVERY_FIELD)
    assert one_call.topic == ["a", "b"]
    assert one_call.output == "/data/model.pt"
    assert one_call.creator_type == "mlops"
    assert one_call.additional_data == EVERY_FIELD["additional_data"]
    assert one_call.id == ID and one_call.timestamp == EVERY_FIELD["timestamp"]
    assert mes.MLOpsMessage.from_bytes(bytes(one_call)) == one_call


def test_no_keywords_gives_the_defaults():
    msg = mes.MessageBuilder.build_message()
    assert msg.message_type is mes.MessageType.OTHER
    assert msg.creator_type == "unknown"
    assert msg.retries == 0 and msg.topic is None and msg.additional_data is None


def test_keywords_from_a_dict_with_non_interned_names():
    names = {"".join(["user", "_msg"]): "built", "".join(["ret", "ries"]): 2}
    msg = mes.MessageBuilder.build_message(**names)
    assert (msg.user_message, msg.retries) == ("built", 2)


def test_each_message_gets_a_fresh_id():
    first = mes.MessageBuilder.build_message(user_msg="x")
    second = mes.MessageBuilder.build_message(user_msg="x")
    assert first.id != second.id


@pytest.mark.parametrize("call,error,words", [
    (lambda: mes.MessageBuilder.build_message("x"), TypeError, "keyword arguments only"),
    (lambda: mes.MessageBuilder.build_message(user_message="x"), TypeError, "user_message"),
    (lambda: mes.MessageBuilder.build_message(retries="3"), TypeError, "retries must be int"),
    (lambda: mes.MessageBuilder.build_message(retries=2**40), ValueError, "32 bits"),
    (lambda: mes.MessageBuilder.build_message(creator=5), TypeError, "creator must be str"),
    (lambda: mes.MessageBuilder.build_message(msg_type="NOPE"), ValueError, "msg_type"),
    (lambda: mes.MessageBuilder.build_message(id="not-an-id"), ValueError, "not a message id"),
    (lambda: mes.MessageBuilder.build_message(trace_context="00-zz"), ValueError, ""),
    (lambda: mes.MessageBuilder.build_message(additional_data={"f": object()}), TypeError, "JSON-like"),
    (lambda: mes.MessageBuilder.build_message(additional_data={1: 2}), TypeError, "key"),
])
def test_bad_values_raise_what_the_with_methods_raise(call, error, words):
    with pytest.raises(error, match=words):
        call()


def test_a_failed_call_leaves_nothing_for_the_next():
    with pytest.raises(TypeError):
        mes.MessageBuilder.build_message(user_msg="first", retries="bad")
    assert mes.MessageBuilder.build_message().user_message is None
