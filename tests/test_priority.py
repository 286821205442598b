"""Thread priority as the kernel grants it, and the fallback when it refuses."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest

from streamlib import ThreadPriority
from streamlib.engine import RULES, PriorityPolicy

_CHILD = textwrap.dedent(
    """
    import json, logging, os, sys
    records = []
    class Keep(logging.Handler):
        def emit(self, record):
            records.append(record.getMessage())
    logging.getLogger("streamlib").addHandler(Keep())
    sys.path.insert(0, sys.argv[1])
    from streamlib import StreamRuntime
    from streamlib.engine import read_thread_sched
    from streamlib.testing import FakeClock
    from tests.helpers import chain, PassThrough, Worker
    # drop privileges only now: the interpreter's own files may not be readable by nobody
    os.setgid(65534); os.setuid(65534)   # nobody: no CAP_SYS_NICE
    rt = StreamRuntime(clock=FakeClock())
    chain(rt, frames=None, live=True, middles=(PassThrough, Worker))
    chain(rt, frames=None, live=True, middles=(Worker,))
    rt.start()
    out = []
    for t in rt.stats()["threads"]:
        policy, prio, nice = read_thread_sched(t["native_id"])
        out.append({"priority": t["priority"], "applied": t["applied"], "policy": policy, "nice": nice})
    rt.stop()
    warnings = [m for m in records if "refused elevated thread priority" in m]
    print(json.dumps({"threads": out, "warnings": len(warnings)}))
    """
)


def test_refused_elevation_lowers_normal_threads_and_warns_once() -> None:
    if os.geteuid() != 0:
        pytest.skip("needs root to drop to an unprivileged user in a child process")
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    result = subprocess.run(
        [sys.executable, "-c", _CHILD, root],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    threads = report["threads"]
    assert len(threads) == 6
    for thread in threads:
        assert thread["policy"] == os.SCHED_OTHER
        if thread["priority"] == ThreadPriority.REAL_TIME.name:
            assert thread["applied"] == "none (EPERM)"
            assert thread["nice"] == 0
        else:  # NORMAL threads step back so real-time ones still come first
            assert thread["applied"] == "nice 5"
            assert thread["nice"] == 5
    assert report["warnings"] == 1


def test_rules_table_is_what_the_policy_applies() -> None:
    assert [a.kind for a in RULES[ThreadPriority.REAL_TIME]] == ["fifo", "nice"]
    assert RULES[ThreadPriority.REAL_TIME][0].value <= 50  # modest: never above device drivers' IRQ threads
    assert [a.kind for a in RULES[ThreadPriority.HIGH]] == ["rr", "nice"]
    assert RULES[ThreadPriority.NORMAL][0].value == 0


@pytest.mark.skipif(os.geteuid() != 0, reason="needs CAP_SYS_NICE")
def test_policy_applies_and_reapplies_by_native_id() -> None:
    import threading

    from streamlib.engine import read_thread_sched

    policy = PriorityPolicy()
    ready, done = threading.Event(), threading.Event()
    tid: list[int] = []

    def body() -> None:
        tid.append(threading.get_native_id())
        ready.set()
        done.wait(10)

    t = threading.Thread(target=body)
    t.start()
    try:
        assert ready.wait(5)
        applied, _ = policy.apply(tid[0], ThreadPriority.REAL_TIME)
        assert applied == "SCHED_FIFO 20"
        assert read_thread_sched(tid[0])[:2] == (os.SCHED_FIFO, 20)
        applied, _ = policy.apply(tid[0], ThreadPriority.HIGH)
        assert applied == "SCHED_RR 10"
        assert read_thread_sched(tid[0])[:2] == (os.SCHED_RR, 10)
        applied, _ = policy.apply(tid[0], ThreadPriority.NORMAL)
        assert applied == "nice 0"
        assert read_thread_sched(tid[0]) == (os.SCHED_OTHER, 0, 0)
    finally:
        done.set()
        t.join()


def test_results_are_json_serializable_in_stats() -> None:
    from streamlib import StreamRuntime
    from streamlib.testing import FakeClock

    from .helpers import Worker, chain

    with StreamRuntime(clock=FakeClock()) as rt:
        chain(rt, frames=None, live=True, middles=(Worker,))
        rt.start()
        json.dumps(rt.stats())
