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
"""

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
