"""Messages of the MLOps pipeline: build them with MessageBuilder, read them as MLOpsMessage.

    import mlops.messaging as mes
    msg = (mes.MessageBuilder()
           .with_msg_type(mes.MessageType.START)
           .with_creator_type("ETL")
           .with_user_msg("Hello World")
           .build())
    msg.user_message   # "Hello World"
    msg.stage          # None: never set

A message is immutable: its properties are read in place from its FlatBuffers bytes
(``bytes(msg)``, ``memoryview(msg)``); ``MLOpsMessage.from_bytes`` reads them back.

The original library's JSON form is here too, with its names: ``msg.to_json()`` (a dict),
``msg.json_serialization()`` (its bytes), ``MessageDeserializer(data)()`` and the module
helpers ``_json_serializer``/``_json_deserializer``.
"""

import json as _json

from mlops._mlops.messaging import (
    CreatorType,
    InvalidMessageError,
    MessageBuilder,
    MessageType,
    MLOpsMessage,
    Stage,
    Stages,
    normalize_creator_type,
)

__all__ = [
    "CreatorType",
    "InvalidMessageError",
    "MessageBuilder",
    "DeserializationError",
    "MessageDeserializer",
    "MessageType",
    "MLOpsMessage",
    "Stage",
    "Stages",
    "normalize_creator_type",
]


def _message_from_bytes(data):
    return MLOpsMessage.from_bytes(data)


# Pickling (multiprocessing, caches) goes through the wire bytes.
MLOpsMessage.__reduce__ = lambda self: (_message_from_bytes, (bytes(self),))


# --- The original library's JSON form (its wire format) -------------------------------------

def _to_json(self):
    """The original's dict: msg_type (the enum's text), topic, creator, creator_type, stage
    (the enum's text or None), next_task, usr_msg, retries, output, recipient, add_data;
    each value as given to the builder (a str stays a str, a list a list)."""
    stage = self.stage
    return {
        "msg_type": self.message_type.value,
        "topic": self.topic,
        "creator": self.creator,
        "creator_type": self.creator_type,
        "stage": None if stage is None else stage.value,
        "next_task": self.next_task,
        "usr_msg": self.user_message,
        "retries": self.retries,
        "output": self.output,
        "recipient": self.recipient,
        "add_data": self.additional_data,
    }


MLOpsMessage.to_json = _to_json

_from_json_text = MLOpsMessage.from_json


def _from_json(json):
    """A message from to_json_text()'s FlatBuffers JSON (a str), or from the original's dict
    (what to_json() returns), rebuilt as MessageDeserializer does."""
    if isinstance(json, dict):
        return MLOpsMessage._from_legacy_json(_json_serializer(json))
    return _from_json_text(json)


MLOpsMessage.from_json = staticmethod(_from_json)


class DeserializationError(InvalidMessageError, RuntimeError):
    """The original's JSON could not be read as a message. A RuntimeError, as the
    original's was ("Error deserializing message"), and an InvalidMessageError."""


class MessageDeserializer:
    """The original's reader: ``MessageDeserializer(data)()`` rebuilds the MLOpsMessage from
    its JSON (bytes or str) through a MessageBuilder, so creator_type is normalised again.
    Raises DeserializationError (a RuntimeError) saying what was wrong."""

    def __init__(self, data):
        self._data = data

    def __call__(self):
        data = self._data
        if data is None:
            raise DeserializationError("Error deserializing message: no data")
        try:
            return MLOpsMessage._from_legacy_json(data)
        except InvalidMessageError as error:
            raise DeserializationError(f"Error deserializing message: {error}") from None
        except (TypeError, BufferError) as error:
            # Neither bytes nor str (an int, a list, a non-contiguous memoryview): the
            # original raised its one error for these too.
            raise DeserializationError(
                f"Error deserializing message: {type(data).__name__} is not JSON bytes or str "
                f"({error})") from None


def _json_serializer(data):
    """The original's helper: the UTF-8 bytes of json.dumps(data); None or "" give
    {"no_message": null}."""
    if data is None or (isinstance(data, str) and data == ""):
        data = {"no_message": None}
    return _json.dumps(data).encode("utf-8")


def _json_deserializer(data):
    """The original's helper: json.loads of UTF-8 bytes; None gives None; anything that is
    not JSON raises RuntimeError("Error deserializing message")."""
    if data is None:
        return None
    try:
        if isinstance(data, (bytes, bytearray, memoryview)):
            data = bytes(data).decode("utf-8")
        return _json.loads(data)
    except (ValueError, TypeError, RecursionError) as error:
        raise RuntimeError("Error deserializing message") from error
