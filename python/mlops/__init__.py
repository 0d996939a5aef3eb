"""mlops: one message format (FlatBuffers) and one way to move it, for MLOps pipelines.

    import mlops.messaging as mes
    import mlops.orchestration as orc

Both modules are thin re-exports of the C++ core (the extension ``mlops._mlops``).
"""

from mlops._mlops import __version__, schema_version  # the C++ library's, one source

__all__ = ["messaging", "orchestration", "__version__", "schema_version"]
