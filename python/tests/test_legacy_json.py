"""The original library's JSON form and wire format, one documented behaviour per test
(ORIGINAL_SYSTEM.md, issue 14), and old and new stages sharing a topic."""
import ctypes
import ctypes.util
import json
import pathlib

import pytest

import mlops.messaging as mes
import mlops.orchestration as orc
from conftest import receive_until

KEYS = ["msg_type", "topic", "creator", "creator_type", "stage", "next_task", "usr_msg",
        "retries", "output", "recipient", "add_data"]


def full_message(**overrides):
    fields = dict(msg_type=mes.MessageType.START, topic=["a", "b"], creator="ETL",
                  creator_type="ETL", stage=mes.Stages.TRAIN, next_task="Train",
                  user_msg="Hello World", retries=2, output=pathlib.Path("/data/out.pt"),
                  recipient=["r"], additional_data={"lr": 0.001, "nested": {"deep": [1, None, True]}})
    fields.update(overrides)
    builder = mes.MessageBuilder()
    for name, value in fields.items():
        getattr(builder, f"with_{name}")(value)
    return builder.build()


def test_to_json_is_the_originals_dict_with_values_as_given():
    d = full_message().to_json()
    assert list(d) == KEYS
    assert d == {"msg_type": "START", "topic": ["a", "b"], "creator": "ETL",
                 "creator_type": "mlops", "stage": "TRAIN", "next_task": "Train",
                 "usr_msg": "Hello World", "retries": 2, "output": "/data/out.pt",
                 "recipient": ["r"], "add_data": {"lr": 0.001, "nested": {"deep": [1, None, True]}}}
    empty = mes.MessageBuilder().build().to_json()
    assert empty == {"msg_type": "OTHER", "topic": None, "creator": None, "creator_type": "unknown",
                     "stage": None, "next_task": None, "usr_msg": None, "retries": 0,
                     "output": None, "recipient": None, "add_data": None}


def test_json_serialization_is_json_dumps_of_to_json():
    for msg in (full_message(), mes.MessageBuilder().build(),
                full_message(user_msg="caf\u00e9 \U0001F600 \"q\" \n", additional_data=[1.5, 1e-7, 1e16, -0.0]),
                full_message(additional_data="plain")):
        assert msg.json_serialization() == json.dumps(msg.to_json()).encode()


def test_json_serialization_of_bytes_raises_type_error_as_json_dumps():
    msg = mes.MessageBuilder().with_additional_data({"b": b"\x00"}).build()
    with pytest.raises(TypeError, match="bytes"):
        msg.json_serialization()


def test_message_deserializer_round_trip_keeps_every_shape():
    original = full_message()
    back = mes.MessageDeserializer(original.json_serialization())()
    assert isinstance(back, mes.MLOpsMessage)
    assert back.to_json() == original.to_json()
    assert back.topic == ["a", "b"] and back.next_task == "Train" and back.output == "/data/out.pt"
    assert back.json_serialization() == original.json_serialization()
    assert back.id != original.id  # rebuilt: a message of its own


def test_message_deserializer_normalises_creator_type_again():
    data = json.dumps({"msg_type": "FAIL", "creator_type": "Data Curation", "usr_msg": "x"}).encode()
    msg = mes.MessageDeserializer(data)()
    assert msg.creator_type == "backend" and msg.message_type is mes.MessageType.FAIL
    assert mes.MessageDeserializer(data.decode())().user_message == "x"  # str works too


@pytest.mark.parametrize("bad", [b"{not json", b"[1, 2]", b'{"no_message": null}',
                                 b'{"retries": "two"}', b'{"stage": "LUNCH"}', b"",
                                 b'{"add_data": ' + b"[" * 200 + b"]" * 200 + b"}", b"\xff\xfe"])
def test_message_deserializer_raises_runtime_error_saying_why(bad):
    with pytest.raises(RuntimeError, match="Error deserializing message") as raised:
        mes.MessageDeserializer(bad)()
    assert isinstance(raised.value, mes.InvalidMessageError)
    assert len(str(raised.value)) > len("Error deserializing message: ")


def test_json_serializer_and_deserializer_helpers():
    assert mes._json_serializer(None) == b'{"no_message": null}'
    assert mes._json_serializer("") == b'{"no_message": null}'
    assert mes._json_serializer({"a": [1, "b"]}) == b'{"a": [1, "b"]}'
    assert mes._json_deserializer(None) is None
    assert mes._json_deserializer(b'{"a": [1, "b"]}') == {"a": [1, "b"]}
    with pytest.raises(RuntimeError, match="Error deserializing message"):
        mes._json_deserializer(b"{oops")
    with pytest.raises(RuntimeError, match="Error deserializing message"):
        mes._json_deserializer(b"\xff")


def test_from_json_takes_the_text_form_and_the_dict_form():
    msg = full_message()
    assert mes.MLOpsMessage.from_json(msg.to_json_text()) == msg
    assert mes.MLOpsMessage.from_json(msg.to_json()).to_json() == msg.to_json()


def test_builder_keeps_its_fields_as_the_original():
    b = mes.MessageBuilder().with_creator("x")
    m1 = b.with_topic("a").build()
    m2 = b.with_topic("b").build()
    assert (m1.topic, m1.creator) == ("a", "x")
    assert (m2.topic, m2.creator) == ("b", "x")


def test_empty_additional_data_reads_back_as_an_empty_dict():
    m = mes.MessageBuilder().with_additional_data({}).build()
    assert m.additional_data == {}
    assert m.to_json()["add_data"] == {}
    assert mes.MessageDeserializer(m.json_serialization())().additional_data == {}
    assert mes.MessageBuilder().build().additional_data is None
    b = mes.MessageBuilder().with_additional_data({"a": 1})
    b.build()
    assert b.with_additional_data({}).build().additional_data == {}


def test_later_additional_data_replaces_the_earlier_after_build():
    b = mes.MessageBuilder().with_additional_data({"a": 1, "b": 2})
    assert b.build().additional_data == {"a": 1, "b": 2}
    assert b.build().additional_data == {"a": 1, "b": 2}
    assert b.with_additional_data({"c": 3}).build().additional_data == {"c": 3}
    assert b.with_additional_data([4]).build().additional_data == [4]
    b.with_additional_argument("own", 5)
    assert b.build().additional_data == {"additional_data": [4], "own": 5}


def test_hostile_legacy_input_never_crashes():
    samples = [b"{" * 100_000, b"[" * 100_000, b'{"usr_msg": "' + b"x" * 5_000_000 + b'"}',
               b'{"topic": [' + b'"t",' * 100_000 + b'"t"]}', b'{"a": ' * 1000, b"\x00" * 100,
               b'{"retries": 1e400}', b'{"retries": 99999999999999999999999}',
               b'{"add_data": {"\\ud800": 1}}', b'{"creator": "\\u0000"}']
    for data in samples:
        try:
            msg = mes.MessageDeserializer(data)()
        except RuntimeError:
            continue
        assert isinstance(msg.to_json(), dict)


def test_legacy_records_and_legacy_wire_on_every_backend(orch):
    con = orc.Consumer("Shared-Topic", orch)
    new_stage = orc.Producer(orch, "Shared-Topic")
    old_stage = orc.Producer(orch, "Shared-Topic", wire="legacy-json")
    new_stage.send(full_message(topic="Shared-Topic", retries=0))
    new_stage.send_raw("Shared-Topic", json.dumps(full_message(topic="Shared-Topic", retries=1).to_json()).encode())
    old_stage.send(full_message(topic="Shared-Topic", retries=2))
    new_stage.send_raw("Shared-Topic", b'{"retries": "bad"}')
    got = receive_until(con, 3)
    assert [m.retries for m in got] == [0, 1, 2]
    assert all(m.to_json()["add_data"] == {"lr": 0.001, "nested": {"deep": [1, None, True]}} for m in got)
    stats = con.stats()
    assert stats["legacy"] == 2 and stats["skipped_legacy"] == 1 and stats["skipped_corrupt"] == 1


class RawKafka:
    """A plain librdkafka client through ctypes, as a stage still on the original (its own
    mock cluster): writes json.dumps(...).encode() bytes with rd_kafka_produce."""

    def __init__(self):
        name = ctypes.util.find_library("rdkafka")
        if name is None:
            pytest.skip("librdkafka is not installed")
        lib = self.lib = ctypes.CDLL(name)
        vp, cp = ctypes.c_void_p, ctypes.c_char_p
        for fn, res, args in [("rd_kafka_conf_new", vp, []),
                              ("rd_kafka_conf_set", ctypes.c_int, [vp, cp, cp, cp, ctypes.c_size_t]),
                              ("rd_kafka_new", vp, [ctypes.c_int, vp, cp, ctypes.c_size_t]),
                              ("rd_kafka_mock_cluster_new", vp, [vp, ctypes.c_int]),
                              ("rd_kafka_mock_cluster_bootstraps", cp, [vp]),
                              ("rd_kafka_mock_topic_create", ctypes.c_int, [vp, cp, ctypes.c_int, ctypes.c_int]),
                              ("rd_kafka_topic_new", vp, [vp, cp, vp]),
                              ("rd_kafka_produce", ctypes.c_int, [vp, ctypes.c_int32, ctypes.c_int, cp,
                                                                  ctypes.c_size_t, vp, ctypes.c_size_t, vp]),
                              ("rd_kafka_flush", ctypes.c_int, [vp, ctypes.c_int]),
                              ("rd_kafka_topic_destroy", None, [vp]),
                              ("rd_kafka_mock_cluster_destroy", None, [vp]),
                              ("rd_kafka_destroy", None, [vp])]:
            getattr(lib, fn).restype = res
            getattr(lib, fn).argtypes = args
        self.error = ctypes.create_string_buffer(512)
        self.mock_handle = lib.rd_kafka_new(0, self._conf({"log_level": "0"}), self.error, 512)
        self.mock = lib.rd_kafka_mock_cluster_new(self.mock_handle, 1)
        self.bootstraps = lib.rd_kafka_mock_cluster_bootstraps(self.mock).decode()

    def _conf(self, settings):
        conf = self.lib.rd_kafka_conf_new()
        for key, value in settings.items():
            assert self.lib.rd_kafka_conf_set(conf, key.encode(), value.encode(), self.error, 512) == 0
        return conf

    def produce(self, topic, payloads):
        assert self.lib.rd_kafka_mock_topic_create(self.mock, topic.encode(), 1, 1) == 0
        rk = self.lib.rd_kafka_new(0, self._conf({"bootstrap.servers": self.bootstraps}), self.error, 512)
        rkt = self.lib.rd_kafka_topic_new(rk, topic.encode(), None)
        for payload in payloads:
            assert self.lib.rd_kafka_produce(rkt, -1, 2, payload, len(payload), None, 0, None) == 0
        assert self.lib.rd_kafka_flush(rk, 5000) == 0
        self.lib.rd_kafka_topic_destroy(rkt)
        self.lib.rd_kafka_destroy(rk)

    def close(self):
        self.lib.rd_kafka_mock_cluster_destroy(self.mock)
        self.lib.rd_kafka_destroy(self.mock_handle)


def test_original_producer_on_kafka_is_read_by_a_python_consumer():
    raw = RawKafka()
    try:
        originals = [{"msg_type": "COMPLETE", "topic": "Legacy-Topic", "creator": "old",
                      "creator_type": "training", "stage": None, "next_task": ["Eval", "Deploy"],
                      "usr_msg": f"done {n}", "retries": n, "output": f"/m/{n}.pt",
                      "recipient": None, "add_data": {"n": n}} for n in range(3)]
        raw.produce("Legacy-Topic", [json.dumps(d).encode() for d in originals])
        try:
            orch = orc.Orchestration(f"kafka://{raw.bootstraps}?session.timeout.ms=6000"
                                     "&heartbeat.interval.ms=300")
        except orc.InvalidArgumentError as error:
            pytest.skip(f"no kafka backend in this build: {error}")
        con = orc.Consumer("Legacy-Topic", orch, group_id="py-legacy", auto_offset_reset="earliest")
        try:
            got = receive_until(con, 3, deadline_s=30)
            assert [m.to_json() for m in got] == [dict(d, creator_type="mlops") for d in originals]
            assert con.stats()["legacy"] == 3
        finally:
            con.close()
    finally:
        raw.close()


def test_the_originals_serialise_deserialise_flow():
    # The flow the original's own messaging test runs: dict -> bytes -> dict -> message.
    msg = (mes.MessageBuilder()
           .with_msg_type(mes.MessageType.START)
           .with_creator_type("ETL")
           .with_creator("ETL")
           .with_user_msg("Hello World")
           .with_next_task("Train")
           .build())
    as_dict = msg.to_json()
    as_bytes = mes._json_serializer(as_dict)
    assert as_bytes == msg.json_serialization()
    assert mes._json_deserializer(as_bytes) == as_dict
    again = mes.MessageDeserializer(as_bytes)()
    assert again.to_json() == as_dict
    assert again.user_message == "Hello World" and again.stage is None
    assert mes.MessageDeserializer(mes._json_serializer(None))  # constructing never raises


def test_json_serialization_matches_json_dumps_for_random_values():
    import math
    import random
    import struct
    rng = random.Random(14)
    floats = [struct.unpack("<d", rng.getrandbits(64).to_bytes(8, "little"))[0] for _ in range(2000)]
    floats += [rng.uniform(-1e6, 1e6) for _ in range(500)] + [10.0 ** e for e in range(-30, 30)]
    floats = [f for f in floats if not math.isnan(f)]
    texts = ["".join(chr(rng.choice([rng.randrange(0, 0x80), rng.randrange(0x80, 0xD800),
                                     rng.randrange(0xE000, 0x110000)])) for _ in range(rng.randrange(0, 12)))
             for _ in range(300)]
    for start in range(0, len(floats), 100):
        msg = mes.MessageBuilder().with_additional_data(floats[start:start + 100]).build()
        assert msg.json_serialization() == json.dumps(msg.to_json()).encode()
    msg = mes.MessageBuilder().with_topic(texts).with_additional_data({t: t for t in texts if t}).build()
    produced = msg.json_serialization()
    assert json.loads(produced) == json.loads(json.dumps(msg.to_json()))
    assert mes.MessageDeserializer(produced)().to_json() == msg.to_json()


def _kafka_mock():
    try:
        return orc.Orchestration("kafka://mock?mock.brokers=1")
    except orc.InvalidArgumentError as error:
        pytest.skip(f"no kafka backend in this build: {error}")


@pytest.mark.parametrize("strategy", [["range", "roundrobin"], ("range", "roundrobin")])
def test_list_option_values_join_with_commas(strategy):
    # kafka-python takes lists; librdkafka refuses "['range', 'roundrobin']".
    orch = _kafka_mock()
    con = orc.Consumer("List-Options", orch, group_id="lists", partition_assignment_strategy=strategy)
    con.close()
    # A joined value that librdkafka refuses says the joined text, not a Python repr.
    with pytest.raises(orc.InvalidArgumentError, match="nonsense") as raised:
        orc.Consumer("List-Options", orch, group_id="lists",
                     partition_assignment_strategy=["range", "nonsense"])
    assert "[" not in str(raised.value)


@pytest.mark.parametrize("bad", [["range", None], ["range", ["roundrobin"]], [{"a": 1}]])
def test_list_option_values_refuse_what_does_not_join(bad):
    orch = _kafka_mock()
    with pytest.raises(orc.InvalidArgumentError, match="option's list holds"):
        orc.Consumer("List-Options", orch, group_id="lists", partition_assignment_strategy=bad)


def test_boolean_option_values_are_true_false():
    # librdkafka takes only true/false for a boolean: "True" would be refused at create.
    orch = _kafka_mock()
    con = orc.Consumer("Bool-Options", orch, group_id="bools", **{"check.crcs": True})
    con.close()


@pytest.mark.parametrize("bad", [5, 1.5, [1, 2], {"usr_msg": "a"}, memoryview(b'{"usr_msg": "ab"}')[::2]])
def test_message_deserializer_of_non_bytes_raises_deserialization_error(bad):
    with pytest.raises(mes.DeserializationError, match="Error deserializing message"):
        mes.MessageDeserializer(bad)()


def test_message_docstring_promises_the_round_trip_that_holds():
    msg = mes.MessageBuilder().with_user_msg("x").with_additional_argument("n", 1).build()
    assert mes.MLOpsMessage.from_json(msg.to_json_text()) == msg
    assert "from_json(to_json(m)) == m" not in mes.MLOpsMessage.__doc__
    assert "from_json(to_json_text(m)) == m" in mes.MLOpsMessage.__doc__


@pytest.mark.parametrize("bad", [b'{"usr_msg": "a"}\x00garbage{{{\xff', b'\xef\xbb\xbf\xef\xbb\xbf{"usr_msg": "a"}'])
def test_message_deserializer_refuses_nul_byte_and_second_bom(bad):
    with pytest.raises(mes.DeserializationError, match="NUL byte|second byte order mark"):
        mes.MessageDeserializer(bad)()
