"""Type stubs for mlops.messaging (the C++ core behind it is mlops._mlops.messaging)."""

import enum
import os
from typing import Any, Dict, List, Optional, Sequence, Union

JSONLike = Union[None, bool, int, float, str, bytes, bytearray, memoryview,
                 Sequence["JSONLike"], Dict[str, "JSONLike"]]
Text = Union[str, Sequence[str]]
PathText = Union[str, os.PathLike, Sequence[Union[str, os.PathLike]]]

class MessageType(enum.Enum):
    """What a message reports; each value's text is its name."""
    START = "START"
    COMPLETE = "COMPLETE"
    FAIL = "FAIL"
    INPROGRESS = "INPROGRESS"
    RETRY = "RETRY"
    OTHER = "OTHER"

class Stages(enum.Enum):
    """Where a piece of work stands in the pipeline; each value's text is its name."""
    STAGED = "STAGED"
    IN_ANNOTATIONS = "IN_ANNOTATIONS"
    ANNOTATIONS_COMPLETE = "ANNOTATIONS_COMPLETE"
    UNSTAGED = "UNSTAGED"
    TRAIN = "TRAIN"
    FINE_TUNE = "FINE_TUNE"
    EVALUATION = "EVALUATION"
    ETL = "ETL"

Stage = Stages

class CreatorType(enum.Enum):
    """The canonical creator types; each value is the lower-case text."""
    UNKNOWN = "unknown"
    DUMP = "dump"
    INGESTION = "ingestion"
    ANNOTATION = "annotation"
    BACKEND = "backend"
    MLOPS = "mlops"
    MONITOR = "monitor"

class InvalidMessageError(ValueError):
    """Bytes or JSON that are not a valid MLOpsMessage."""
    code: Optional[str]
    status: Optional[str]

def normalize_creator_type(creator_type: str) -> str:
    """The canonical creator type for free-form text ("ETL" -> "mlops"); unknown text gives "unknown"."""

class MLOpsMessage:
    """An immutable pipeline message read in place from its FlatBuffers bytes."""
    @property
    def message_type(self) -> MessageType: ...
    @property
    def topic(self) -> Optional[Union[str, List[str]]]: ...
    @property
    def creator(self) -> Optional[str]: ...
    @property
    def creator_type(self) -> str: ...
    @property
    def stage(self) -> Optional[Stages]: ...
    @property
    def next_task(self) -> Optional[Union[str, List[str]]]: ...
    @property
    def user_message(self) -> Optional[str]: ...
    @property
    def retries(self) -> int: ...
    @property
    def output(self) -> Optional[Union[str, List[str]]]: ...
    @property
    def recipient(self) -> Optional[Union[str, List[str]]]: ...
    @property
    def additional_data(self) -> Any:
        """What with_additional_data was given, or None."""
    @property
    def additional_arguments(self) -> Optional[Dict[str, Any]]: ...
    @property
    def key(self) -> Optional[str]:
        """The ordering key (with_key), or None."""
    @property
    def trace_context(self) -> Optional[str]:
        """The W3C traceparent (with_trace_context, child_of), or None."""
    @property
    def id(self) -> Optional[str]:
        """The unique, time-ordered id as UUID text."""
    @property
    def timestamp(self) -> Optional[int]:
        """Creation time in ns since the Unix epoch."""
    @property
    def nbytes(self) -> int: ...
    def get_additional_argument(self, key: str, default: Any = None) -> Any: ...
    def to_json(self) -> Dict[str, Any]:
        """The original's dict: msg_type, topic, creator, creator_type, stage, next_task,
        usr_msg, retries, output, recipient, add_data; values as given to the builder."""
    def json_serialization(self) -> bytes:
        """The original's wire bytes: json.dumps(self.to_json()).encode() (add_data keys sorted)."""
    def to_json_text(self) -> str:
        """One line of FlatBuffers JSON; a bytes value reads back from it as surrogate-escaped str."""
    def __bytes__(self) -> bytes: ...
    def __buffer__(self, flags: int) -> memoryview: ...
    def __eq__(self, other: object) -> bool:
        """Every field the same (from_json(to_json_text(m)) == m), whatever the bytes."""
    def __hash__(self) -> int: ...
    @staticmethod
    def from_bytes(data: Union[bytes, bytearray, memoryview, "MLOpsMessage"]) -> "MLOpsMessage":
        """Verifies wire bytes; raises InvalidMessageError when they are not a message."""
    @staticmethod
    def from_json(json: Union[str, Dict[str, Any]]) -> "MLOpsMessage":
        """From to_json_text()'s text, or from the original's dict (to_json())."""

class MessageBuilder:
    """Builds an immutable MLOpsMessage; every with_* returns the builder."""
    def __init__(self) -> None: ...
    def with_msg_type(self, msg_type: Union[MessageType, str]) -> "MessageBuilder": ...
    def with_topic(self, topic: Text) -> "MessageBuilder": ...
    def with_creator(self, creator: str) -> "MessageBuilder": ...
    def with_creator_type(self, creator_type: Union[str, CreatorType]) -> "MessageBuilder": ...
    def with_stage(self, stage: Union[Stages, str]) -> "MessageBuilder": ...
    def with_next_task(self, next_task: Text) -> "MessageBuilder": ...
    def with_user_msg(self, user_msg: str) -> "MessageBuilder": ...
    def with_retries(self, retries: int) -> "MessageBuilder": ...
    def with_output(self, output: PathText) -> "MessageBuilder": ...
    def with_recipient(self, recipient: Text) -> "MessageBuilder": ...
    def with_additional_data(self, additional_data: JSONLike) -> "MessageBuilder": ...
    def with_additional_argument(self, key: str, value: JSONLike) -> "MessageBuilder": ...
    def with_additional_arguments(self, arguments: Dict[str, JSONLike]) -> "MessageBuilder": ...
    def with_key(self, key: str) -> "MessageBuilder":
        """Messages with one key keep their order on partitioned backends; "" removes it."""
    def with_trace_context(self, traceparent: str) -> "MessageBuilder":
        """The W3C traceparent of the pipeline run; "" removes it; ValueError if invalid."""
    def with_id(self, id: str) -> "MessageBuilder": ...
    def with_timestamp(self, unix_ns: int) -> "MessageBuilder": ...
    def build(self) -> MLOpsMessage:
        """The message; the builder keeps its fields (a fresh id and timestamp each time)."""
    def reset(self) -> None:
        """Drops every field set so far, back to the defaults."""
    @staticmethod
    def build_message(
        *,
        msg_type: Union[MessageType, str] = ...,
        topic: Text = ...,
        creator: str = ...,
        creator_type: Union[str, CreatorType] = ...,
        stage: Union[Stages, str] = ...,
        next_task: Text = ...,
        user_msg: str = ...,
        retries: int = ...,
        output: PathText = ...,
        recipient: Text = ...,
        additional_data: JSONLike = ...,
        key: str = ...,
        trace_context: str = ...,
        id: str = ...,
        timestamp: int = ...,
    ) -> MLOpsMessage:
        """MessageBuilder().with_<name>(value)...build() in one call (faster: one C++ call)."""
    @staticmethod
    def from_message(message: MLOpsMessage) -> "MessageBuilder": ...
    @staticmethod
    def child_of(parent: MLOpsMessage) -> "MessageBuilder":
        """A builder continuing parent's trace (same trace id, new span id)."""

class DeserializationError(InvalidMessageError, RuntimeError):
    """The original's JSON could not be read as a message."""

class MessageDeserializer:
    """The original's reader: MessageDeserializer(data)() rebuilds the message from its JSON."""
    def __init__(self, data: Union[bytes, bytearray, memoryview, str]) -> None: ...
    def __call__(self) -> MLOpsMessage: ...

def _json_serializer(data: Any) -> bytes:
    """json.dumps(data).encode(); None or "" give {"no_message": null}."""
def _json_deserializer(data: Optional[Union[bytes, bytearray, memoryview, str]]) -> Any:
    """json.loads(data); None gives None; invalid JSON raises RuntimeError."""
