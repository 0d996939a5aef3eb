"""A Python class deriving from two pybind11 classes: the raw descriptors' cpp_self reads the
first base's value pointer (instance->get_value_and_holder() without a type) as its own."""
import mlops.orchestration as orc
from mlops.messaging import MessageBuilder

class X(orc.Backoff, MessageBuilder):
    def __init__(self):
        orc.Backoff.__init__(self, 100, 2.0, 1000, 0.0)
        MessageBuilder.__init__(self)

x = X()
print("made", type(x).__mro__)
for i in range(1000):
    x.with_topic("t" * 100).with_creator("c" * 100).with_additional_argument("k", "v" * 200)
msg = x.build()
print(msg.topic, msg.creator)
print(x.delay(1) if hasattr(x, "delay") else "")
