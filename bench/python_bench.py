#!/usr/bin/env python3
"""Python benchmark of issues 7 and 19: build + send + receive + read, per message, from Python.

The mlops binding over the inproc and mmap backends, beside the original's approach in the
same run: json.dumps of the message dict, bytes through an in-process queue, json.loads and
dict reads (the original also had Kafka underneath; here both sides skip the network).

    PYTHONPATH=build/release/python /usr/bin/python3 bench/python_bench.py [--messages N] [--reps R]

Each case runs R repetitions of N messages (interleaved across cases); the table gives the
median ns per message and how many times faster than its JSON row it is (higher is better).
Issue 19's rows run without a transport: build, bytes(), from_bytes, read every field,
through the original fluent API and through MessageBuilder.build_message (one call).
"""

import argparse
import collections
import json
import statistics
import tempfile
import time

import mlops.messaging as mes
import mlops.orchestration as orc

ADDITIONAL = {"lr": 0.001, "epochs": 10, "tags": ["resnet", "v2"]}
BATCH = 100


def json_round_trip(n):
    """The original: a dict per message, json.dumps to bytes, a queue, json.loads, reads."""
    queue = collections.deque()
    checksum = 0
    for start in range(0, n, BATCH):
        for i in range(start, min(start + BATCH, n)):
            message = {
                "msg_type": "START", "topic": "Cool-New-Topic", "creator": "ETL", "creator_type": "mlops",
                "stage": None, "next_task": "Train", "user_message": f"Hello World {i}", "retries": 0,
                "output": None, "recipient": None, "additional_data": ADDITIONAL,
            }
            queue.append(json.dumps(message).encode())
        while queue:
            message = json.loads(queue.popleft().decode())
            checksum += len(message["user_message"]) + len(message["creator_type"]) + len(message["next_task"])
            checksum += message["additional_data"]["epochs"] + (message["msg_type"] == "START")
    return checksum


def json_encode(n):
    """The original's send side alone: the dict and json.dumps."""
    total = 0
    for i in range(n):
        total += len(json.dumps({
            "msg_type": "START", "topic": "Cool-New-Topic", "creator": "ETL", "creator_type": "mlops",
            "stage": None, "next_task": "Train", "user_message": f"Hello World {i}", "retries": 0,
            "output": None, "recipient": None, "additional_data": ADDITIONAL,
        }).encode())
    return total


def mlops_encode(n):
    """The builder alone: the message's wire bytes are ready to send."""
    total = 0
    for i in range(n):
        total += build(i).nbytes
    return total


def decode_cases():
    """Receive side alone: bytes in, fields read (json.loads vs MLOpsMessage.from_bytes)."""
    payloads = [json.dumps({
        "msg_type": "START", "topic": "Cool-New-Topic", "creator": "ETL", "creator_type": "mlops",
        "stage": None, "next_task": "Train", "user_message": f"Hello World {i}", "retries": 0,
        "output": None, "recipient": None, "additional_data": ADDITIONAL}).encode() for i in range(100)]
    wires = [bytes(build(i)) for i in range(100)]

    def json_decode(n):
        checksum = 0
        for i in range(n):
            message = json.loads(payloads[i % 100].decode())
            checksum += len(message["user_message"]) + len(message["creator_type"]) + len(message["next_task"])
            checksum += message["additional_data"]["epochs"] + (message["msg_type"] == "START")
        return checksum

    def mlops_decode(n):
        checksum = 0
        for i in range(n):
            checksum += read(mes.MLOpsMessage.from_bytes(wires[i % 100]))
        return checksum

    return json_decode, mlops_decode


def json_loop(n):
    """Issue 19's loop, the original's way: a dict, json.dumps().encode(), decode + json.loads,
    dict reads; one message at a time, no transport."""
    checksum = 0
    for i in range(n):
        wire = json.dumps({
            "msg_type": "START", "topic": "Cool-New-Topic", "creator": "ETL", "creator_type": "mlops",
            "stage": None, "next_task": "Train", "user_message": f"Hello World {i}", "retries": 0,
            "output": None, "recipient": None, "additional_data": ADDITIONAL,
        }).encode()
        message = json.loads(wire.decode())
        checksum += len(message["user_message"]) + len(message["creator_type"]) + len(message["next_task"])
        checksum += message["additional_data"]["epochs"] + (message["msg_type"] == "START")
    return checksum


def bytes_loop(make):
    """Issue 19's loop with mlops: build, bytes(), from_bytes (verifies), read every field."""
    def run(n):
        checksum = 0
        for i in range(n):
            checksum += read(mes.MLOpsMessage.from_bytes(bytes(make(i))))
        return checksum
    return run


def build_one_call(i):
    """build() in one C++ call: MessageBuilder.build_message with the same fields."""
    return mes.MessageBuilder.build_message(
        msg_type=mes.MessageType.START, topic="Cool-New-Topic", creator="ETL", creator_type="ETL",
        next_task="Train", user_msg=f"Hello World {i}", additional_data=ADDITIONAL)


def build(i):
    return (mes.MessageBuilder()
            .with_msg_type(mes.MessageType.START)
            .with_topic("Cool-New-Topic")
            .with_creator("ETL")
            .with_creator_type("ETL")
            .with_next_task("Train")
            .with_user_msg(f"Hello World {i}")
            .with_additional_data(ADDITIONAL)
            .build())


def read(message):
    return (len(message.user_message) + len(message.creator_type) + len(message.next_task)
            + message.additional_data["epochs"] + (message.message_type is mes.MessageType.START))


def mlops_case(orch, batch, make=None):
    """Build and send `batch` messages, receive them all, read each; repeat to n.
    The producer and consumer are made once per case, as a pipeline stage makes them.
    `make(i)` builds message i (the fluent builder unless given)."""
    make = make or build
    prod = orc.Producer(orch)
    con = orc.Consumer("Cool-New-Topic", orch, group_id="bench", max_poll_records=batch)

    def run(n):
        checksum = 0
        for start in range(0, n, batch):
            count = min(batch, n - start)
            for i in range(start, start + count):
                prod.send(make(i))
            got = 0
            while got < count:
                for message in con.receive(timeout=1000):
                    checksum += read(message)
                    got += 1
        return checksum

    def close():
        prod.close()
        con.close()

    run.close = close
    return run


def time_cases(runs, reps, n):
    """Median ns per message of each run. The repetitions are interleaved (every case once,
    then every case again) so that load on a shared machine falls on all cases alike."""
    checksums = [run(n) for run in runs]  # warm-up: first segments, first allocations
    samples = [[] for _ in runs]
    for _ in range(reps):
        for index, run in enumerate(runs):
            start = time.perf_counter()
            result = run(n)
            samples[index].append((time.perf_counter() - start) / n * 1e9)
            if result != checksums[index]:
                raise SystemExit("checksum changed between repetitions")
    return [(statistics.median(s), c) for s, c in zip(samples, checksums)]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument("--reps", type=int, default=7)
    args = parser.parse_args()

    # (name, run, index of the row it is compared with)
    with tempfile.TemporaryDirectory(prefix="mlops-python-bench-") as directory:
        cases = [
            ("json.dumps/loads + deque (original)", json_round_trip, 0),
            (f"mlops inproc, batches of {BATCH}", mlops_case(orc.Orchestration("inproc://bench-batch"), BATCH), 0),
            ("mlops inproc, one at a time", mlops_case(orc.Orchestration("inproc://bench-one"), 1), 0),
            ("  same, build_message (one call)",
             mlops_case(orc.Orchestration("inproc://bench-one-call"), 1, build_one_call), 0),
            (f"mlops mmap, batches of {BATCH}", mlops_case(orc.Orchestration(f"mmap://{directory}/batch"), BATCH), 0),
            ("mlops mmap, one at a time", mlops_case(orc.Orchestration(f"mmap://{directory}/one"), 1), 0),
        ]
        json_decode, mlops_decode = decode_cases()
        first = len(cases)
        cases += [
            ("dict + dumps + encode + decode + loads + reads", json_loop, first),
            ("build() + bytes + from_bytes + reads", bytes_loop(build), first),
            ("build_message + bytes + from_bytes + reads", bytes_loop(build_one_call), first),
            ("send side only: dict + json.dumps", json_encode, first + 3),
            ("send side only: MessageBuilder...build()", mlops_encode, first + 3),
            ("send side only: build_message(...)", lambda n: sum(build_one_call(i).nbytes for i in range(n)),
             first + 3),
            ("receive side only: json.loads + reads", json_decode, first + 6),
            ("receive side only: from_bytes (verify) + reads", mlops_decode, first + 6),
        ]
        timed = time_cases([run for _, run, _ in cases], args.reps, args.messages)
        results = [(name, ns, checksum, base) for (name, _, base), (ns, checksum) in zip(cases, timed)]
        for _, run, _ in cases:
            if hasattr(run, "close"):
                run.close()  # before the mmap directory goes

    print(f"per message; median of {args.reps} x {args.messages} messages; vs json = json ns / this ns")
    print(f"{'case':<48} {'ns/msg':>9} {'vs json':>8}  checksum")
    for index, (name, ns, checksum, base) in enumerate(results):
        if index == first:
            print("-- no transport: build + bytes + from_bytes + read (issue 19), and the two halves apart")
        print(f"{name:<48} {ns:>9.0f} {results[base][1] / ns:>7.2f}x  {checksum}")

if __name__ == "__main__":
    main()
