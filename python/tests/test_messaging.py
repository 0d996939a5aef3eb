"""mlops.messaging: the original's builder and message contract, plus the wire bytes."""

import copy
import json
import pathlib
import pickle

import pytest

import mlops.messaging as mes

ALL_FIELDS = dict(
    msg_type=mes.MessageType.COMPLETE,
    topic="Cool-New-Topic",
    creator="trainer-7",
    creator_type="Fine Tuning",
    stage=mes.Stages.FINE_TUNE,
    next_task="Evaluate",
    user_msg="done",
    retries=3,
    output="/data/model.pt",
    recipient="eval-team",
    additional_data={"lr": 0.001, "layers": [64, 32], "name": "resnet"},
)


def build(**fields):
    builder = mes.MessageBuilder()
    for name, value in fields.items():
        getattr(builder, f"with_{name}")(value)
    return builder.build()


def test_enums_values_are_their_names():
    assert [m.value for m in mes.MessageType] == ["START", "COMPLETE", "FAIL", "INPROGRESS", "RETRY", "OTHER"]
    assert [m.name for m in mes.Stages] == [
        "STAGED", "IN_ANNOTATIONS", "ANNOTATIONS_COMPLETE", "UNSTAGED", "TRAIN", "FINE_TUNE", "EVALUATION", "ETL"]
    assert mes.Stage is mes.Stages
    assert mes.MessageType("START") is mes.MessageType.START
    assert mes.CreatorType.MLOPS.value == "mlops"


def test_defaults_and_every_property_unset():
    msg = mes.MessageBuilder().build()
    assert msg.message_type is mes.MessageType.OTHER
    assert msg.creator_type == "unknown"
    assert msg.retries == 0
    for name in ["topic", "creator", "stage", "next_task", "user_message", "output", "recipient",
                 "additional_data", "additional_arguments"]:
        assert getattr(msg, name) is None, name
    assert isinstance(msg.id, str) and len(msg.id) == 36
    assert isinstance(msg.timestamp, int) and msg.timestamp > 1_600_000_000 * 10**9


def test_every_property_set():
    msg = build(**ALL_FIELDS)
    assert msg.message_type is mes.MessageType.COMPLETE
    assert msg.topic == "Cool-New-Topic"
    assert msg.creator == "trainer-7"
    assert msg.creator_type == "mlops"
    assert msg.stage is mes.Stages.FINE_TUNE
    assert msg.next_task == "Evaluate"
    assert msg.user_message == "done"
    assert msg.retries == 3
    assert msg.output == "/data/model.pt"
    assert msg.recipient == "eval-team"
    assert msg.additional_data == {"lr": 0.001, "layers": [64, 32], "name": "resnet"}


@pytest.mark.parametrize("field,prop", [("topic", "topic"), ("next_task", "next_task"),
                                        ("output", "output"), ("recipient", "recipient")])
def test_single_value_and_list_keep_their_shape(field, prop):
    assert getattr(build(**{field: "a"}), prop) == "a"
    assert getattr(build(**{field: ["a"]}), prop) == ["a"]
    assert getattr(build(**{field: ["a", "b", "c"]}), prop) == ["a", "b", "c"]
    assert getattr(build(**{field: ("a", "b")}), prop) == ["a", "b"]
    assert getattr(build(**{field: []}), prop) == []


def test_output_takes_paths():
    assert build(output=pathlib.Path("/data/x.pt")).output == "/data/x.pt"
    assert build(output=[pathlib.Path("/a"), "b"]).output == ["/a", "b"]


def test_later_call_overwrites_earlier():
    msg = (mes.MessageBuilder().with_topic(["a", "b"]).with_topic("c").with_user_msg("x")
           .with_user_msg("y").with_additional_data({"k": 1}).with_additional_data({"j": 2}).build())
    assert msg.topic == "c"
    assert msg.user_message == "y"
    assert msg.additional_data == {"j": 2}


@pytest.mark.parametrize("creator_type,canonical", [
    ("ETL", "mlops"), ("Data Curation", "backend"), ("labeler", "annotation"), ("drop", "dump"),
    ("ingest", "ingestion"), ("DB Monitor", "monitor"), ("unknown", "unknown"),
    (mes.CreatorType.MONITOR, "monitor")])
def test_creator_type_is_normalised(creator_type, canonical):
    assert build(creator_type=creator_type).creator_type == canonical


def test_unknown_creator_type_logs_and_reads_unknown(caplog):
    with caplog.at_level("WARNING", logger="mlops"):
        assert build(creator_type="space pirates").creator_type == "unknown"
    assert any("space pirates" in r.getMessage() for r in caplog.records)


NESTED = {
    "none": None, "flag": False, "int": -(2**63), "big": 2**63 - 1, "float": 1.5, "text": "héllo ✓",
    "bytes": b"\x00\xff", "list": [1, "two", 3.0, [None, True]], "map": {"a": {"b": {"c": [{"d": []}]}}},
    "empty_map": {}, "empty_list": [],
}


@pytest.mark.parametrize("data", [NESTED, [1, [2, [3]]], "just text", 42, 2.5, True, None, b"raw"])
def test_additional_data_round_trip(data):
    msg = build(additional_data=data)
    assert msg.additional_data == data
    again = mes.MLOpsMessage.from_bytes(bytes(msg))
    assert again.additional_data == data
    assert type(again.additional_data) is type(data)


def test_additional_data_is_read_at_build_like_the_original():
    data = {"a": 1}
    builder = mes.MessageBuilder().with_additional_data(data)
    data["b"] = 2
    assert builder.build().additional_data == {"a": 1, "b": 2}


def test_tuples_read_back_as_lists():
    assert build(additional_data={"t": (1, 2)}).additional_data == {"t": [1, 2]}


def test_additional_arguments_and_lookup():
    msg = (mes.MessageBuilder().with_additional_argument("a", 1)
           .with_additional_arguments({"b": [1, 2], "c": "x"}).build())
    assert msg.additional_arguments == {"a": 1, "b": [1, 2], "c": "x"}
    assert msg.additional_data == {"a": 1, "b": [1, 2], "c": "x"}
    assert msg.get_additional_argument("b") == [1, 2]
    assert msg.get_additional_argument("zz", "dflt") == "dflt"


@pytest.mark.parametrize("bad,error", [
    ({1: "x"}, TypeError), (object(), TypeError), ({"s": {1, 2}}, TypeError), (2**64, OverflowError)])
def test_additional_data_rejects_non_json_values(bad, error):
    builder = mes.MessageBuilder().with_user_msg("x").with_additional_data(bad)
    with pytest.raises(error):
        builder.build()  # the value is written (and checked) at build(), as given
    assert builder.build().user_message is None  # a failed build leaves nothing behind


def test_additional_data_too_deep_is_a_value_error():
    deep = []
    for _ in range(100):
        deep = [deep]
    with pytest.raises(ValueError):
        mes.MessageBuilder().with_additional_data(deep).build()
    loop = []
    loop.append(loop)
    with pytest.raises(ValueError):
        mes.MessageBuilder().with_additional_data(loop).build()


def test_wrong_types_raise_type_error():
    with pytest.raises(TypeError):
        mes.MessageBuilder().with_msg_type(3)
    with pytest.raises(TypeError):
        mes.MessageBuilder().with_stage(mes.MessageType.START)
    with pytest.raises(TypeError):
        mes.MessageBuilder().with_user_msg(5)
    with pytest.raises(ValueError):
        mes.MessageBuilder().with_msg_type("NOT_A_TYPE")


def test_immutable():
    msg = build(**ALL_FIELDS)
    for name in ["message_type", "topic", "creator", "creator_type", "stage", "next_task", "user_message",
                 "retries", "output", "recipient", "additional_data", "id", "timestamp"]:
        with pytest.raises(AttributeError):
            setattr(msg, name, None)
    with pytest.raises(AttributeError):
        msg.new_attribute = 1
    with pytest.raises(TypeError):
        mes.MLOpsMessage()


def test_bytes_and_buffer_protocol_without_copy():
    msg = build(**ALL_FIELDS)
    view = memoryview(msg)
    assert view.readonly and view.format == "B" and view.nbytes == msg.nbytes
    assert bytes(view) == bytes(msg)
    assert memoryview(msg).obj is msg
    with pytest.raises(TypeError):
        view[0] = 1
    data = bytes(msg)
    del msg  # the view keeps the message (and so the bytes) alive
    assert bytes(view) == data


def test_from_bytes_round_trip_accepts_any_bytes_like():
    msg = build(**ALL_FIELDS)
    for data in (bytes(msg), bytearray(msg), memoryview(msg)):
        again = mes.MLOpsMessage.from_bytes(data)
        assert again == msg and again.id == msg.id and again.timestamp == msg.timestamp


@pytest.mark.parametrize("bad", [b"", b"not a message at all", b"\x00" * 64])
def test_bad_bytes_raise_invalid_message_error(bad):
    with pytest.raises(mes.InvalidMessageError) as info:
        mes.MLOpsMessage.from_bytes(bad)
    assert isinstance(info.value, ValueError)
    assert str(info.value) and info.value.code


def test_corrupted_bytes_raise_invalid_message_error():
    data = bytearray(build(**ALL_FIELDS))
    for i in range(8, len(data), 7):
        data[i] ^= 0xFF
    try:
        mes.MLOpsMessage.from_bytes(data)
    except mes.InvalidMessageError as error:
        assert error.code in {"corrupt", "truncated", "too_large", "wrong_identifier"}


def test_to_json_and_back():
    msg = build(**ALL_FIELDS)
    text = msg.to_json_text()
    assert json.loads(text)["user_message"] == "done"
    again = mes.MLOpsMessage.from_json(text)
    assert again.user_message == "done" and again.stage is mes.Stages.FINE_TUNE
    with pytest.raises(mes.InvalidMessageError):
        mes.MLOpsMessage.from_json("{not json")


def test_pickle_copy_and_equality():
    msg = build(**ALL_FIELDS)
    assert pickle.loads(pickle.dumps(msg)) == msg
    assert copy.copy(msg) == msg
    assert hash(copy.copy(msg)) == hash(msg)
    assert msg != build(**ALL_FIELDS)  # a new id and timestamp


def test_from_message_makes_a_changed_copy():
    msg = build(**ALL_FIELDS)
    changed = mes.MessageBuilder.from_message(msg).with_retries(4).build()
    assert changed.retries == 4 and changed.user_message == "done" and changed.id != msg.id


def test_key_reads_back_survives_json_and_copies_and_empty_removes_it():
    msg = mes.MessageBuilder().with_key("dataset-7").build()
    assert msg.key == "dataset-7"
    assert mes.MLOpsMessage.from_json(msg.to_json_text()).key == "dataset-7"
    assert mes.MessageBuilder.from_message(msg).build().key == "dataset-7"
    assert mes.MessageBuilder().build().key is None
    assert mes.MessageBuilder().with_key("k").with_key("").build().key is None
    with pytest.raises(TypeError):
        mes.MessageBuilder().with_key(7)


def test_explicit_id_and_timestamp():
    msg = mes.MessageBuilder().with_id("0190b1c2-d3e4-7f00-8a1b-2c3d4e5f6a7b").with_timestamp(123).build()
    assert msg.id == "0190b1c2-d3e4-7f00-8a1b-2c3d4e5f6a7b"
    assert msg.timestamp == 123


def test_builder_keeps_its_fields_and_reset_clears_them():
    builder = mes.MessageBuilder().with_user_msg("x").with_additional_data([1])
    first = builder.build()
    second = builder.build()
    assert first.user_message == "x" and first.additional_data == [1]
    assert second.user_message == "x" and second.additional_data == [1]
    assert first.id != second.id
    builder.reset()
    third = builder.build()
    assert third.user_message is None and third.additional_data is None