#!/usr/bin/env python3
"""Benchmark of issue 14: reading and writing the original library's JSON from Python.

Decode: this library's legacy decode (MessageDeserializer(data)(), C++ parse and build)
against the original's way (json.loads, then a MessageBuilder chain building the same
message). Encode: json_serialization() against json.dumps(msg.to_json()).encode().

    PYTHONPATH=build/release/python /usr/bin/python3 bench/legacy_json_bench.py [--messages N] [--reps R]

Each case runs R repetitions of N messages; the table gives the median ns per message and
how many times faster than its baseline it is (higher is better).
"""

import argparse
import json
import statistics
import time

import mlops.messaging as mes

ORIGINAL = {
    "msg_type": "START", "topic": "Cool-New-Topic", "creator": "ETL", "creator_type": "ETL",
    "stage": "TRAIN", "next_task": ["Train", "Evaluate"], "usr_msg": "Hello World", "retries": 1,
    "output": "/data/out.parquet", "recipient": None,
    "add_data": {"lr": 0.001, "epochs": 10, "tags": ["resnet", "v2"]},
}


def payloads(n):
    return [json.dumps(dict(ORIGINAL, usr_msg=f"Hello World {i}")).encode() for i in range(n)]


def json_loads_and_build(data):
    """The original's MessageDeserializer: json.loads, then the builder."""
    checksum = 0
    for raw in data:
        d = json.loads(raw)
        b = mes.MessageBuilder().with_msg_type(mes.MessageType[d["msg_type"]])
        if d["topic"] is not None:
            b.with_topic(d["topic"])
        if d["creator"] is not None:
            b.with_creator(d["creator"])
        b.with_creator_type(d["creator_type"])
        if d["stage"] is not None:
            b.with_stage(mes.Stages[d["stage"]])
        if d["next_task"] is not None:
            b.with_next_task(d["next_task"])
        if d["usr_msg"] is not None:
            b.with_user_msg(d["usr_msg"])
        b.with_retries(d["retries"])
        if d["output"] is not None:
            b.with_output(d["output"])
        if d["recipient"] is not None:
            b.with_recipient(d["recipient"])
        if d["add_data"] is not None:
            b.with_additional_data(d["add_data"])
        checksum += b.build().retries
    return checksum


def legacy_decode(data):
    checksum = 0
    for raw in data:
        checksum += mes.MessageDeserializer(raw)().retries
    return checksum


def json_loads_only(data):
    return sum(json.loads(raw)["retries"] for raw in data)


def json_dumps_to_json(messages):
    return sum(len(json.dumps(m.to_json()).encode()) for m in messages)


def json_serialization(messages):
    return sum(len(m.json_serialization()) for m in messages)


def time_case(run, argument, reps, n):
    times = []
    checksum = None
    for _ in range(reps):
        start = time.perf_counter_ns()
        checksum = run(argument)
        times.append((time.perf_counter_ns() - start) / n)
    return statistics.median(times), checksum


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument("--reps", type=int, default=7)
    args = parser.parse_args()
    data = payloads(args.messages)
    messages = [mes.MessageDeserializer(raw)() for raw in data]
    print(f"per message; median of {args.reps} x {args.messages} messages; vs baseline = baseline ns / this ns")
    print(f"{'case':<52} {'ns/msg':>9} {'vs baseline':>12}  checksum")
    for title, baseline, cases, argument in [
        ("decode", json_loads_and_build, [json_loads_only, legacy_decode], data),
        ("encode", json_dumps_to_json, [json_serialization], messages),
    ]:
        base_ns, base_sum = time_case(baseline, argument, args.reps, args.messages)
        print(f"{title + ': ' + baseline.__name__ + ' (baseline)':<52} {base_ns:>9.0f} {1:>11.2f}x  {base_sum}")
        for case in cases:
            ns, checksum = time_case(case, argument, args.reps, args.messages)
            print(f"{title + ': ' + case.__name__:<52} {ns:>9.0f} {base_ns / ns:>11.2f}x  {checksum}")


if __name__ == "__main__":
    main()
