"""Trace context: with_trace_context, child_of, msg.trace_context."""

import pytest

import mlops.messaging as mes

VALID = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


def test_trace_context_reads_back_and_survives_bytes():
    msg = mes.MessageBuilder().with_trace_context(VALID).build()
    assert msg.trace_context == VALID
    assert mes.MLOpsMessage.from_bytes(bytes(msg)).trace_context == VALID
    assert mes.MessageBuilder().build().trace_context is None


@pytest.mark.parametrize(
    "text",
    [
        "nonsense",
        VALID.upper(),
        "ff" + VALID[2:],
        VALID[:3] + "0" * 32 + VALID[35:],
        VALID[:36] + "0" * 16 + VALID[52:],
        VALID + "-extra",
        VALID[:-1],
    ],
)
def test_invalid_traceparent_raises_value_error(text):
    with pytest.raises(ValueError, match="invalid traceparent"):
        mes.MessageBuilder().with_trace_context(text)


def test_child_of_keeps_the_trace_id_with_a_new_span():
    parent = mes.MessageBuilder().with_trace_context(VALID).build()
    child = mes.MessageBuilder.child_of(parent).with_user_msg("next").build()
    assert child.trace_context[3:35] == VALID[3:35]
    assert child.trace_context[36:52] != VALID[36:52]
    assert child.user_message == "next"


def test_child_of_an_untraced_parent_starts_a_fresh_trace():
    parent = mes.MessageBuilder().build()
    first = mes.MessageBuilder.child_of(parent).build().trace_context
    second = mes.MessageBuilder.child_of(parent).build().trace_context
    assert first is not None and len(first) == 55
    assert first[3:35] != second[3:35]
    mes.MessageBuilder().with_trace_context(first)  # valid by our own check
