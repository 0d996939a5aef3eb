"""Moving MLOpsMessages between pipeline stages: Producer, Consumer, Admin.

    import mlops.orchestration as orc
    orch = orc.OrchestrationBuilder().with_orchestrator("inproc").with_connection("demo").build()
    with orc.Producer(orch, "Cool-New-Topic") as prod:
        prod.send(msg)
    with orc.Consumer("Cool-New-Topic", orch, group_id="train") as con:
        for msg in con.receive(timeout=500):
            print(msg.user_message)

Backends by URI: "none:", "inproc://NAME", "mmap:///DIR" (persistent, multi-process), and
those the C++ core was built with (e.g. "kafka://HOST:PORT"). Keyword options a binding
does not know are passed through to the backend as text.
"""

from mlops._mlops.orchestration import (
    Admin,
    Backoff,
    BackPressureError,
    ClosedError,
    Consumer,
    InvalidArgumentError,
    Orchestration,
    OrchestrationBuilder,
    OrchestrationError,
    OrchestrationTimeoutError,
    Producer,
)

__all__ = [
    "Admin",
    "Backoff",
    "BackPressureError",
    "ClosedError",
    "Consumer",
    "InvalidArgumentError",
    "Orchestration",
    "OrchestrationBuilder",
    "OrchestrationError",
    "OrchestrationTimeoutError",
    "Producer",
]
