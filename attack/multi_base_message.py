import mlops.orchestration as orc, mlops.messaging as mes
class Message(orc.Backoff, mes.MLOpsMessage): pass
message = Message.__mro__[-2].__new__(Message)
orc.Backoff.__init__(message, 100, 2.0, 1000, 0.0)
for read in (lambda: message.topic, lambda: bytes(message), lambda: memoryview(message)):
    try: print(repr(read())[:80])
    except TypeError as error: print("refused:", error)
