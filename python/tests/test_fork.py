"""Issue 21 item 7: fork() while other threads are inside calls. A child inherited the
binding's per-object mutex locked by a thread it does not have, so its first call on that
object blocked forever; os.fork() now waits for calls in flight to finish their slice.

Each case runs in a fresh interpreter (its own session: a hung child is killed with it)."""

import pytest

from conftest import assert_clean_exit, run_script

# Threads keep the consumer inside receive() and the producer inside send() while the main
# thread forks four children, each of which calls both inherited objects (an inherited mmap
# consumer refuses at once, by the mmap backend's design) and checks that its own message,
# sent through the inherited producer, arrives. The parent checks each child's exit status.
FORK_WHILE_BUSY = """
    import os, sys, threading
    import mlops.messaging as mes
    import mlops.orchestration as orc
    orch = orc.Orchestration(sys.argv[1])
    con = orc.Consumer("Cool-New-Topic", orch, group_id="busy")
    prod = orc.Producer(orch, "Cool-New-Topic")
    stop = threading.Event()
    inside = threading.Barrier(3)
    def receiving():
        inside.wait()
        while not stop.is_set():
            con.receive(timeout=50)
    def sending():
        inside.wait()
        while not stop.is_set():
            prod.send(mes.MessageBuilder().with_user_msg("parent").build())
    threads = [threading.Thread(target=receiving), threading.Thread(target=sending)]
    for thread in threads:
        thread.start()
    inside.wait()
    children = []
    for i in range(4):
        pid = os.fork()
        if pid == 0:
            code = 1
            try:
                try:
                    con.receive(timeout=10)  # returns or refuses at once: it must not block
                except orc.OrchestrationError:
                    pass  # mmap: an inherited consumer refuses (its group is the parent's)
                mine = orc.Consumer("Child-Topic", orch, group_id=f"child-{i}")
                prod.send(mes.MessageBuilder().with_topic("Child-Topic").with_user_msg(f"child {i}").build(),
                          flush=True)
                got = []
                for _ in range(100):
                    got += [m.user_message for m in mine.receive(timeout=100)]
                    if f"child {i}" in got:
                        code = 0
                        break
                mine.close()
                con.close()
                prod.close()
            finally:
                os._exit(code)
        children.append(pid)
    codes = [os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) for pid in children]
    stop.set()
    for thread in threads:
        thread.join()
    print("children", codes)
"""


@pytest.mark.parametrize("backend", ["inproc", "mmap"])
def test_child_forked_while_threads_are_inside_calls_can_use_the_objects(backend, tmp_path):
    uri = f"inproc://fork" if backend == "inproc" else f"mmap://{tmp_path}/queue?segment_bytes=65536"
    done = run_script(FORK_WHILE_BUSY, uri, timeout_s=120)
    assert_clean_exit(done)
    assert done.stdout.strip() == "children [0, 0, 0, 0]"


def test_child_forked_while_a_thread_waits_in_a_none_backend_call_is_not_blocked():
    # The none backend never waits: the threads sit in the binding's lock almost all the time.
    done = run_script("""
        import os, threading
        import mlops.messaging as mes
        import mlops.orchestration as orc
        orch = orc.Orchestration("none:")
        con = orc.Consumer("Cool-New-Topic", orch)
        prod = orc.Producer(orch, "Cool-New-Topic")
        stop = threading.Event()
        msg = mes.MessageBuilder().build()
        def busy():
            while not stop.is_set():
                con.receive(timeout=0)
                prod.send(msg, flush=True)
        threads = [threading.Thread(target=busy) for _ in range(2)]
        for thread in threads:
            thread.start()
        codes = []
        for _ in range(20):
            pid = os.fork()
            if pid == 0:
                con.receive(timeout=0)
                prod.send(msg, flush=True)
                prod.close()
                os._exit(0)
            codes.append(os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]))
        stop.set()
        for thread in threads:
            thread.join()
        print(codes == [0] * 20)
    """, timeout_s=120)
    assert_clean_exit(done)
    assert done.stdout.strip() == "True"


def test_mmap_producer_inherited_by_children_while_the_parent_sends_delivers_their_messages(tmp_path):
    # The second finding: children of a parent whose thread sends through the same mmap
    # producer hung (the core's segment preparer held a lock at fork) and their messages never
    # arrived. Small segments make the preparer busy.
    done = run_script("""
        import os, sys, threading
        import mlops.messaging as mes
        import mlops.orchestration as orc
        orch = orc.Orchestration(sys.argv[1])
        check = orc.Consumer("Cool-New-Topic", orch, group_id="check")
        prod = orc.Producer(orch, "Cool-New-Topic")
        stop = threading.Event()
        started = threading.Event()
        def sending():
            while not stop.is_set():
                prod.send(mes.MessageBuilder().with_user_msg("parent").build())
                started.set()
        sender = threading.Thread(target=sending)
        sender.start()
        started.wait()
        children = []
        for i in range(4):
            pid = os.fork()
            if pid == 0:
                try:
                    for _ in range(50):
                        prod.send(mes.MessageBuilder().with_user_msg(f"child {i}").build())
                    prod.flush()
                finally:
                    os._exit(0)
            children.append(pid)
        codes = [os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) for pid in children]
        stop.set()
        sender.join()
        prod.flush()
        counts = {}
        while True:
            got = check.receive(timeout=200)
            if not got:
                break
            for m in got:
                counts[m.user_message] = counts.get(m.user_message, 0) + 1
        print(codes, [counts.get(f"child {i}", 0) for i in range(4)])
    """, f"mmap://{tmp_path}/queue?segment_bytes=65536", timeout_s=120)
    assert_clean_exit(done)
    assert done.stdout.strip() == "[0, 0, 0, 0] [50, 50, 50, 50]"
