"""Hostile input against the whole Python API: wrong types and values for every argument,
objects whose conversion runs Python code that changes what is being converted, strided
buffers, self-containing and deeply nested data, instances made without __init__.

Every case must either work or raise an ordinary exception (TypeError, ValueError,
OverflowError, an OrchestrationError; RuntimeError where the input changed while it was read)
and never crash. Future changes must keep passing it; CI also runs it under the ASan+UBSan
build of the extension (ctest: python_hostile_input). Each group runs in a fresh interpreter,
which prints each case before trying it, so that a crash names the case that caused it.

Run one group by hand: python3 test_hostile_input.py GROUP"""

import math
import os
import pathlib
import shutil
import sys
import tempfile

import pytest

from conftest import assert_clean_exit, run_script

# ZeroDivisionError is BadBool's own, raised from its __bool__ as given.
ALLOWED = (TypeError, ValueError, OverflowError, ZeroDivisionError)


class StrSub(str):
    pass


class IntSub(int):
    pass


class BadBool:
    def __bool__(self):
        raise ZeroDivisionError("no truth")


class Path:
    def __init__(self, text):
        self.text = text

    def __fspath__(self):
        return self.text


def values():
    """Hostile values for any argument."""
    b = bytes(range(16))
    return [None, True, 0, -1, 1.5, math.nan, math.inf, -math.inf, 2**63, 2**100, -(2**100),
            "", "\ud800", "x" * 100_000, StrSub("Cool-New-Topic"), IntSub(3), b"t",
            bytearray(b"t"), memoryview(b)[::-1], [], [None], ["a", 1], {"a": 1}, ("t",),
            {"t"}, object(), BadBool(), Path("/p"), Path(5), type, print]


def mutating_values():
    """Values whose conversion changes the container they are in (fresh each time)."""
    cases = []
    d = {}

    class ClearsDict:
        def __fspath__(self):
            d.clear()
            return "/p"
    d["k" * 1000] = [ClearsDict()]
    cases.append(("dict cleared", d))

    d2 = {}

    class GrowsDict:
        def __fspath__(self):
            for i in range(100):
                d2[f"n{i}"] = i
            return "/p"
    d2["a"] = GrowsDict()
    cases.append(("dict grown", d2))

    lst = []

    class ClearsList:
        def __fspath__(self):
            lst.clear()
            return "/p"
    lst.extend([ClearsList(), "a", "b"])
    cases.append(("list cleared", {"l": lst}))

    class GetattrMutates:
        def __getattr__(self, name):
            d3.clear()
            raise AttributeError(name)
    d3 = {"x": GetattrMutates(), "y": 1}
    cases.append(("getattr mutates", d3))

    class FspathRaises:
        def __fspath__(self):
            raise KeyError("from __fspath__")
    cases.append(("fspath raises", {"x": FspathRaises()}))
    return cases


def nested(depth):
    value = 1
    for _ in range(depth):
        value = [value]
    return value


def self_containing():
    lst = []
    lst.append(lst)
    d = {}
    d["d"] = d
    return [("list in itself", lst), ("dict in itself", d), ("deep 1000", nested(1000)),
            ("deep dict", {"a": nested(200)}), ("non-str key", {1: 2}), ("huge int", {"i": 2**64})]


# --- groups: each yields (label, zero-argument callable, extra allowed exceptions) ---------

def group_builder():
    import mlops.messaging as mes
    methods = ["with_msg_type", "with_topic", "with_creator", "with_creator_type", "with_stage",
               "with_next_task", "with_user_msg", "with_retries", "with_output", "with_recipient",
               "with_additional_data", "with_id", "with_timestamp"]
    for method in methods:
        for value in values():
            def call(method=method, value=value):
                builder = mes.MessageBuilder()
                getattr(builder, method)(value)
                msg = builder.build()
                return bytes(msg), msg.to_json_text(), msg.additional_data
            yield f"{method}({value!r:.40})", call, ()
    for value in values():
        yield (f"with_additional_argument(key, {value!r:.40})",
               lambda value=value: mes.MessageBuilder().with_additional_argument("k", value).build(), ())
        yield (f"with_additional_argument({value!r:.40}, 1)",
               lambda value=value: mes.MessageBuilder().with_additional_argument(value, 1).build(), ())
        yield (f"with_additional_arguments({value!r:.40})",
               lambda value=value: mes.MessageBuilder().with_additional_arguments(value).build(), ())
    yield "with_topic() no argument", lambda: mes.MessageBuilder().with_topic(), ()
    yield "with_topic(a, b)", lambda: mes.MessageBuilder().with_topic("a", "b"), ()
    yield "with_topic(wrong keyword)", lambda: mes.MessageBuilder().with_topic(value="a"), ()
    yield "MessageBuilder(1)", lambda: mes.MessageBuilder(1), ()
    yield "from_message(5)", lambda: mes.MessageBuilder.from_message(5), ()


def group_additional_data():
    import mlops.messaging as mes
    for how in ("data", "arguments", "argument"):
        for label, value in mutating_values():  # fresh: converting them changes them
            def call(how=how, value=value):
                builder = mes.MessageBuilder()
                if how == "data":
                    builder.with_additional_data(value)
                elif how == "arguments":
                    builder.with_additional_arguments(value)
                else:
                    builder.with_additional_argument("outer", value)
                return builder.build().additional_data
            yield f"{label} via {how}", call, (RuntimeError, IndexError, KeyError)
    for label, value in self_containing():
        yield label, lambda value=value: mes.MessageBuilder().with_additional_data(value).build(), ()
    b = bytes(range(16))
    for label, view in [("reversed view", memoryview(b)[::-1]), ("strided view", memoryview(b)[::2]),
                        ("2-d view", memoryview(b).cast("B", (4, 4))), ("empty view", memoryview(b"")),
                        ("released view", None)]:
        if view is None:
            view = memoryview(b"abc")
            view.release()
        yield label, lambda view=view: mes.MessageBuilder().with_additional_data({"v": view}).build(), ()


def group_message():
    import mlops.messaging as mes
    msg = (mes.MessageBuilder().with_topic(["a", "b"]).with_additional_data({"x": [1, {"y": b"\0"}]})
           .with_output(pathlib.Path("/tmp/o")).build())
    raw = bytes(msg)
    inputs = [b"", b"\0" * 7, b"\0" * 64, raw[:-1], raw[: len(raw) // 2], b"MLOP" * 100,
              bytearray(raw), memoryview(raw), memoryview(raw)[::-1], bytes(reversed(raw)), 5, None,
              "text", os.urandom(256)]
    for data in inputs:
        yield f"from_bytes({data!r:.30})", lambda data=data: mes.MLOpsMessage.from_bytes(data), ()
    for text in ["", "{", "null", "[]", '{"topic": 5}', '{"additional_arguments": [{"key": 1}]}',
                 "\ud800", 5, None, b"{}", msg.to_json_text()[:-1], msg.to_json_text()]:
        yield f"from_json({text!r:.30})", lambda text=text: mes.MLOpsMessage.from_json(text), ()
    for key in values():
        yield (f"get_additional_argument({key!r:.30})",
               lambda key=key: msg.get_additional_argument(key), ())
    yield "memoryview write", lambda: memoryview(msg).__setitem__(0, 1), ()
    yield "attribute set", lambda: setattr(msg, "topic", "x"), (AttributeError,)
    yield "new attribute", lambda: setattr(msg, "extra", 1), (AttributeError,)
    yield "== other types", lambda: [msg == v for v in values()], ()
    yield "hash", lambda: hash(msg), ()
    yield "pickle", lambda: __import__("pickle").loads(__import__("pickle").dumps(msg)) == msg, ()
    yield "normalize_creator_type(5)", lambda: mes.normalize_creator_type(5), ()


def group_uninitialised():
    import mlops.messaging as mes
    import mlops.orchestration as orc
    classes = [mes.MessageBuilder, mes.MLOpsMessage, orc.Producer, orc.Consumer, orc.Admin,
               orc.Orchestration, orc.OrchestrationBuilder]
    for cls in classes:
        def make(cls=cls):
            return cls.__new__(cls)
        yield f"{cls.__name__}.__new__", make, ()
        try:
            obj = cls.__new__(cls)
        except TypeError:
            continue
        for name in sorted(dir(cls)):
            if name.startswith("__") and name not in ("__repr__", "__bytes__", "__enter__",
                                                      "__exit__", "__eq__", "__hash__",
                                                      "__copy__", "__deepcopy__"):
                continue
            def call(obj=obj, name=name):
                attribute = getattr(obj, name)
                if callable(attribute):
                    for args in ((), ("Cool-New-Topic",), (None, None, None)):
                        try:
                            attribute(*args)
                        except TypeError:
                            pass
                return attribute
            yield f"{cls.__name__}.{name}", call, ()
        yield f"{cls.__name__} memoryview", lambda obj=obj: memoryview(obj), ()
        yield f"{cls.__name__} dropped", lambda obj=obj: obj.__class__, ()


def group_orchestration():
    import mlops.messaging as mes
    import mlops.orchestration as orc
    orch = orc.Orchestration(f"inproc://hostile-{os.getpid()}?max_messages=4")
    msg = mes.MessageBuilder().with_topic("Cool-New-Topic").build()
    for value in values() + ["garbage", "mmap://", "inproc://", "kafka://", "none:?x=" + "y" * 5000,
                             "mmap:///proc/forbidden/q", "inproc://" + "n" * 10_000]:
        yield f"Orchestration({value!r:.40})", lambda value=value: orc.Orchestration(value), ()
        yield f"Producer({value!r:.40})", lambda value=value: orc.Producer(value, "t"), ()
        yield (f"Producer(orch, topic={value!r:.40})",
               lambda value=value: orc.Producer(orch, value).send(msg), ())
        yield (f"Consumer({value!r:.40})",
               lambda value=value: orc.Consumer(value, orch).receive(timeout=0), ())
        for option in ("send_timeout_ms", "flush_timeout_ms", "back_pressure", "acks"):
            yield (f"Producer({option}={value!r:.40})",
                   lambda option=option, value=value: orc.Producer(orch, "t", **{option: value}).close(), ())
        for option in ("max_poll_records", "group_id", "auto_offset_reset", "enable_auto_commit"):
            yield (f"Consumer({option}={value!r:.40})",
                   lambda option=option, value=value: orc.Consumer("t", orch, **{option: value}).close(), ())
        for option in ("orchestrator", "connection"):
            yield (f"OrchestrationBuilder.with_{option}({value!r:.40})",
                   lambda option=option, value=value:
                       getattr(orc.OrchestrationBuilder(), f"with_{option}")(value).build(), ())
    prod = orc.Producer(orch, "Cool-New-Topic", back_pressure="return")
    con = orc.Consumer("Cool-New-Topic", orch, group_id="hostile")
    closed = orc.Consumer("Cool-New-Topic", orch)  # its receive() parses, then raises at once
    closed.close()
    admin = orc.Admin(orch)
    for value in values():
        yield f"send({value!r:.40})", lambda value=value: prod.send(value), ()
        yield f"send(msg, flush={value!r:.40})", lambda value=value: prod.send(msg, flush=value), ()
        yield f"try_send({value!r:.40})", lambda value=value: prod.try_send(value), ()
        yield f"send_raw({value!r:.40}, b'x')", lambda value=value: prod.send_raw(value, b"x"), ()
        yield f"send_raw('t', {value!r:.40})", lambda value=value: prod.send_raw("t", value), ()
        yield f"flush({value!r:.40})", lambda value=value: prod.flush(value), ()
        yield f"receive(timeout={value!r:.40})", lambda value=value: closed.receive(timeout=value), ()
        yield (f"receive(max_records={value!r:.40})",
               lambda value=value: closed.receive(timeout=0, max_records=value), ())
        yield f"receive(filter={value!r:.40})", lambda value=value: closed.receive(value, timeout=0), ()
        yield f"subscribe({value!r:.40})", lambda value=value: con.subscribe(value, override=False), ()
        yield f"create_topic({value!r:.40})", lambda value=value: admin.create_topic(value), ()
        yield f"create_topic(t, {value!r:.40})", lambda value=value: admin.create_topic("t2", value), ()
        yield (f"validate_connection({value!r:.40})",
               lambda value=value: admin.validate_connection(value), ())
    # Filters, on a topic of their own.
    fresh = orc.Orchestration(f"inproc://hostile-filters-{os.getpid()}")
    sender = orc.Producer(fresh, "Cool-New-Topic")
    reader = orc.Consumer("Cool-New-Topic", fresh)

    def with_one_message(filter_):
        sender.send(msg)
        return reader.receive(filter_, timeout=100)

    def raising_filter(m):
        raise KeyError("from the filter")
    yield "filter raises", lambda: with_one_message(raising_filter), (KeyError,)
    yield "filter returns BadBool", lambda: with_one_message(lambda m: BadBool()), ()
    yield "filter closes its consumer", lambda: with_one_message(lambda m: reader.close() or True), ()
    yield "receive after close", lambda: reader.receive(timeout=0), ()
    yield "subscribe after close", lambda: reader.subscribe("x"), ()
    yield "close twice", lambda: (sender.close(), sender.close(), reader.close(), admin.close(),
                                  admin.close()), ()
    yield "send after close", lambda: sender.send(msg), ()
    yield "admin after close", lambda: admin.topics(), ()


GROUPS = {name[len("group_"):]: fn for name, fn in globals().items() if name.startswith("group_")}


def main(group):
    """Runs one group, printing each case before and its outcome after; exit 1 on an
    unexpected exception, and a crash leaves the case that caused it as the last line."""
    # Orchestration() without a URI opens $MLOPS_ORCHESTRATION, or ./.mlops: neither here.
    os.environ["MLOPS_ORCHESTRATION"] = "none:"
    os.chdir(tempfile.mkdtemp(prefix="mlops-hostile-"))
    import mlops.orchestration as orc
    allowed_everywhere = ALLOWED + (orc.OrchestrationError,)
    unexpected = 0
    for label, call, extra in GROUPS[group]():
        print(f"case {label}", flush=True)
        try:
            call()
            print("  ok", flush=True)
        except allowed_everywhere + tuple(extra) as error:
            print(f"  {type(error).__name__}", flush=True)
        except BaseException as error:  # noqa: B036 - the finding
            unexpected += 1
            print(f"  UNEXPECTED {type(error).__name__}: {error}", flush=True)
    shutil.rmtree(os.getcwd(), ignore_errors=True)
    print("done", flush=True)
    sys.exit(1 if unexpected else 0)


@pytest.mark.parametrize("group", sorted(GROUPS))
def test_hostile_input_raises_or_works_and_never_crashes(group):
    done = run_script(f"""
        import sys
        sys.path.insert(0, {str(pathlib.Path(__file__).parent)!r})
        import test_hostile_input
        test_hostile_input.main({group!r})
    """, timeout_s=240)
    cases = [line for line in done.stdout.splitlines() if line.startswith("case ")]
    if done.returncode < 0:
        assert_clean_exit(done)  # a crash: named, with the case it stopped at last in stdout
    unexpected = [line for line in done.stdout.splitlines() if "UNEXPECTED" in line]
    assert not unexpected, "\n".join(unexpected)
    assert_clean_exit(done)
    assert done.stdout.rstrip().endswith("done"), f"stopped at {cases[-1:]}"
    assert len(cases) > 10

if __name__ == "__main__":
    main(sys.argv[1])
