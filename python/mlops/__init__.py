"""mlops: one message format (FlatBuffers) and one way to move it, for MLOps pipelines.

    import mlops.messaging as mes
    import mlops.orchestration as orc

Both modules are thin re-exports of the C++ core (the extension ``mlops._mlops``).
"""

__version__ = "0.1.0"
__all__ = ["messaging", "orchestration"]
