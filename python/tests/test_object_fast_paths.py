"""The binding's per-message fast paths (issue 19) keep the behaviour of the paths they replace.

Message and builder objects are made without pybind11's instance table, a message object is
freed by its own tp_dealloc, names (argument keys, topics, creators, tasks) come from a cache
of interned strs, and with_additional_argument(s) are raw descriptors returning the builder.
"""

import gc
import sys

import pytest

import mlops.messaging as mes
import mlops.orchestration as orc


def message(**fields):
    return mes.MessageBuilder.build_message(**fields)


# --- Names from the interned-str cache --------------------------------------------------------


def test_argument_keys_are_the_interned_strs_a_literal_looks_up():
    data = message(additional_data={"epochs": 10, "lr": 0.5}).additional_data
    assert data == {"epochs": 10, "lr": 0.5}
    for key in data:
        assert key is sys.intern(key)


def test_a_name_read_twice_is_the_same_str_object():
    msg = message(topic="Cool-New-Topic", creator="ETL", next_task="Train")
    assert msg.topic == "Cool-New-Topic" and msg.topic is msg.topic
    assert msg.creator == "ETL" and msg.creator is msg.creator
    assert msg.next_task == "Train" and msg.next_task is msg.next_task


def test_names_past_the_cache_limits_read_back_exactly():
    long_key = "k" * 41  # longer than the cache takes
    texts = {long_key: 1, "ключ": 2, "naïve": 3, "": 4}
    data = message(additional_data=texts).additional_data
    assert data == texts
    assert message(topic=["ключ", "a" * 100, ""]).topic == ["ключ", "a" * 100, ""]


def test_many_names_that_share_cache_slots_each_read_back_as_written():
    # More names than the cache has slots: every slot is replaced several times over.
    keys = [f"key-{i}" for i in range(2000)]
    for start in range(0, len(keys), 250):
        chunk = {key: index for index, key in enumerate(keys[start:start + 250], start)}
        assert message(additional_data=chunk).additional_data == chunk
    topics = [f"topic-{i}" for i in range(600)]
    assert message(topic=topics).topic == topics
    assert [message(creator=t).creator for t in topics] == topics


def test_nested_values_read_back_through_the_raw_dict_and_list_paths():
    value = {"a": [1, 2.5, "x", None, True, b"\x00\xff", {"b": [{"c": []}], "d": {}}]}
    msg = message(additional_data={"nested": value, "empty": [], "map": {}})
    assert msg.additional_data == {"nested": value, "empty": [], "map": {}}
    assert msg.get_additional_argument("nested") == value


# --- Message objects outside pybind11's instance table ----------------------------------------


WAYS = ["build", "build_message", "from_bytes", "from_bytes_bytearray", "from_json"]


def made_every_way():
    built = mes.MessageBuilder().with_topic("t").with_additional_data({"n": 1}).build()
    yield "build", built
    yield "build_message", message(topic="t", additional_data={"n": 1})
    yield "from_bytes", mes.MLOpsMessage.from_bytes(bytes(built))
    yield "from_bytes_bytearray", mes.MLOpsMessage.from_bytes(bytearray(bytes(built)))
    yield "from_json", mes.MLOpsMessage.from_json(built.to_json_text())


@pytest.mark.parametrize("how", WAYS)
def test_a_message_made_any_way_is_taken_by_every_call_that_takes_one(how):
    msg = dict(made_every_way())[how]
    assert msg.topic == "t" and msg.additional_data == {"n": 1}
    assert msg == mes.MLOpsMessage.from_bytes(bytes(msg))
    assert hash(msg) == hash(mes.MLOpsMessage.from_bytes(bytes(msg)))
    assert mes.MessageBuilder.from_message(msg).build().additional_data == {"n": 1}
    assert mes.MessageBuilder.child_of(msg).build().trace_context is not None
    orch = orc.Orchestration(f"inproc://fast-paths-{how}")
    with orc.Producer(orch) as producer, orc.Consumer("t", orch, group_id="g") as consumer:
        producer.send(msg)
        received = consumer.receive(timeout=5000)
        assert received == [msg]
        assert received[0].additional_data == {"n": 1}


def test_a_memoryview_keeps_the_bytes_of_a_dropped_message():
    msg = message(user_msg="kept", additional_data={"n": 1})
    expected = bytes(msg)
    view = memoryview(msg)
    del msg
    gc.collect()
    for _ in range(1000):  # reuse of freed memory would show in the view
        message(user_msg="x" * 64)
    assert bytes(view) == expected
    view.release()


def test_dropped_messages_release_their_references():
    data = {"n": 1}
    before = sys.getrefcount(data)
    for _ in range(1000):
        msg = mes.MessageBuilder().with_additional_data(data).build()
        mes.MLOpsMessage.from_bytes(bytes(msg))
    del msg
    assert sys.getrefcount(data) == before
    builder = mes.MessageBuilder()
    start = sys.getrefcount(builder)
    for _ in range(1000):
        builder.with_topic("t").with_additional_argument("a", 1)
    assert sys.getrefcount(builder) == start


def test_a_subclass_of_mlopsmessage_still_cannot_be_instantiated():
    class Sub(mes.MLOpsMessage):
        pass

    with pytest.raises(TypeError):
        Sub()
    with pytest.raises(TypeError):
        Sub.__new__(Sub)


# --- with_additional_argument(s) as raw descriptors --------------------------------------------


def test_with_additional_argument_returns_the_builder_itself():
    builder = mes.MessageBuilder()
    assert builder.with_additional_argument("a", 1) is builder
    assert builder.with_additional_argument(key="b", value=[1, 2]) is builder
    assert builder.with_additional_argument("c", value="x") is builder
    assert builder.with_additional_arguments({"d": None}) is builder
    assert builder.with_additional_arguments(arguments={"e": 2.5}) is builder
    assert builder.build().additional_arguments == {"a": 1, "b": [1, 2], "c": "x", "d": None,
                                                    "e": 2.5}


def test_a_temporary_builder_lives_through_its_chain():
    msg = mes.MessageBuilder().with_additional_argument("a", 1).with_additional_arguments(
        {"b": 2}).build()
    gc.collect()
    assert msg.additional_arguments == {"a": 1, "b": 2}


@pytest.mark.parametrize("call, message", [
    (lambda b: b.with_additional_argument("a"), "needs key and value"),
    (lambda b: b.with_additional_argument(), "needs key and value"),
    (lambda b: b.with_additional_argument("a", 1, 2), "at most 2"),
    (lambda b: b.with_additional_argument("a", 1, key="b"), "multiple values for argument 'key'"),
    (lambda b: b.with_additional_argument(k="a", value=1), "unexpected keyword argument 'k'"),
    (lambda b: b.with_additional_argument(1, 1), "key must be str, not int"),
    (lambda b: b.with_additional_argument("a", object()), "JSON-like"),
    (lambda b: b.with_additional_arguments(), "exactly one argument"),
    (lambda b: b.with_additional_arguments([("a", 1)]), "needs a dict, not list"),
    (lambda b: b.with_additional_arguments({1: 1}), "key must be str, not int"),
    (lambda b: b.with_additional_arguments(argument={}), "unexpected keyword argument"),
])
def test_bad_additional_argument_calls_raise_type_error_naming_the_problem(call, message):
    builder = mes.MessageBuilder()
    with pytest.raises(TypeError, match=message):
        call(builder)
    assert builder.build().additional_arguments is None


def test_additional_argument_methods_on_an_uninitialised_builder_raise_type_error():
    builder = mes.MessageBuilder.__new__(mes.MessageBuilder)
    with pytest.raises(TypeError, match="not initialised"):
        builder.with_additional_argument("a", 1)
    with pytest.raises(TypeError, match="not initialised"):
        builder.with_additional_arguments({"a": 1})


def test_builders_from_from_message_and_child_of_chain_the_raw_methods():
    parent = message(topic="t")
    for builder in (mes.MessageBuilder.from_message(parent), mes.MessageBuilder.child_of(parent)):
        assert builder.with_additional_argument("a", 1) is builder
        assert builder.build().additional_arguments == {"a": 1}


def test_an_argument_given_by_position_and_by_keyword_raises_type_error():
    # The raw descriptors' shared parser once let the keyword silently win.
    orch = orc.Orchestration("inproc://fast-paths-repeated")
    msg = message(topic="t")
    with orc.Producer(orch) as producer, orc.Consumer("t", orch, group_id="g") as consumer:
        with pytest.raises(TypeError, match="multiple values for argument 'message'"):
            producer.send(msg, message=msg)
        with pytest.raises(TypeError, match="multiple values for argument 'timeout'"):
            consumer.receive(None, 10, timeout=10)
        assert consumer.receive(timeout=10) == []  # nothing was sent
