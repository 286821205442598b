"""OS thread priority, applied (and re-applied) to a running thread by its native id.

The rules live in one table, ``RULES``, that the tests read. Each priority lists the
attempts in order; the first the kernel grants wins:

- REAL_TIME: SCHED_FIFO at a modest priority (20), else nice -10.
- HIGH: SCHED_RR at 10, else nice -5.
- NORMAL: SCHED_OTHER at nice 0 (explicitly, so a thread never inherits a
  creator's real-time class), or nice +5 once elevation has been refused, so
  real-time threads still come first.

When every attempt for an elevated priority is refused (no CAP_SYS_NICE, no
RLIMIT_RTPRIO), the policy warns once, records ``"none (EPERM)"`` for that thread,
and from then on lowers NORMAL threads; the engine re-applies NORMAL to the threads
it already runs. Linux only; on other systems only nice values are tried (the
seed's macOS time-constraint path is not written: untested here).
"""

from __future__ import annotations

import errno
import logging
import os
import threading
from dataclasses import dataclass

from ..plan import ThreadPriority

__all__ = ["RULES", "Attempt", "PriorityPolicy", "read_thread_sched"]

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Attempt:
    kind: str
    """"fifo", "rr" (real-time classes) or "nice"."""
    value: int
    """The real-time priority, or the nice value."""


RULES: dict[ThreadPriority, tuple[Attempt, ...]] = {
    ThreadPriority.REAL_TIME: (Attempt("fifo", 20), Attempt("nice", -10)),
    ThreadPriority.HIGH: (Attempt("rr", 10), Attempt("nice", -5)),
    ThreadPriority.NORMAL: (Attempt("nice", 0),),
}
LOWERED_NORMAL_NICE = 5

_HAS_SCHED = hasattr(os, "sched_setscheduler")


def _errname(exc: OSError) -> str:
    return errno.errorcode.get(exc.errno or 0, str(exc.errno))


class PriorityPolicy:
    """Applies RULES and remembers whether elevation was refused.

    Synchronization: ``apply`` may run on several runner threads at once; the
    refusal flag is guarded by a lock.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.lowered_normal = False
        self._warned = False

    def apply(self, native_id: int, priority: ThreadPriority) -> tuple[str, bool]:
        """Apply ``priority`` to thread ``native_id``. Returns what the kernel granted
        (``"SCHED_FIFO 20"``, ``"nice -10"``, ``"none (EPERM)"``) and whether this call
        newly switched the policy to lowering NORMAL threads."""
        if priority is ThreadPriority.NORMAL:
            return self._normal(native_id), False
        refusals = []
        for attempt in RULES[priority]:
            try:
                return self._try(native_id, attempt), False
            except OSError as exc:
                if exc.errno not in (errno.EPERM, errno.EACCES, errno.EINVAL, errno.ENOSYS):
                    raise
                refusals.append(f"{attempt.kind}: {_errname(exc)}")
        with self._lock:
            newly = not self.lowered_normal
            self.lowered_normal = True
            warn = not self._warned
            self._warned = True
        if warn:
            log.warning(
                "the kernel refused elevated thread priority (%s); real-time threads run at "
                "normal priority and NORMAL threads are lowered to nice +%d so real-time "
                "threads still come first. Grant CAP_SYS_NICE (or an RLIMIT_RTPRIO) to "
                "allow SCHED_FIFO.",
                ", ".join(refusals),
                LOWERED_NORMAL_NICE,
            )
        first = refusals[0].split(": ", 1)[1] if refusals else "unsupported"
        return f"none ({first})", newly

    def _normal(self, native_id: int) -> str:
        nice = LOWERED_NORMAL_NICE if self.lowered_normal else RULES[ThreadPriority.NORMAL][0].value
        if _HAS_SCHED:
            try:
                if os.sched_getscheduler(native_id) != os.SCHED_OTHER:
                    os.sched_setscheduler(native_id, os.SCHED_OTHER, os.sched_param(0))
            except OSError as exc:
                return f"none ({_errname(exc)})"
        try:
            os.setpriority(os.PRIO_PROCESS, native_id, nice)
        except OSError as exc:
            return f"none ({_errname(exc)})"
        return f"nice {nice}"

    @staticmethod
    def _try(native_id: int, attempt: Attempt) -> str:
        if attempt.kind == "nice":
            if _HAS_SCHED and os.sched_getscheduler(native_id) != os.SCHED_OTHER:
                os.sched_setscheduler(native_id, os.SCHED_OTHER, os.sched_param(0))
            os.setpriority(os.PRIO_PROCESS, native_id, attempt.value)
            return f"nice {attempt.value}"
        if not _HAS_SCHED:
            raise OSError(errno.ENOSYS, "no sched_setscheduler on this platform")
        policy = os.SCHED_FIFO if attempt.kind == "fifo" else os.SCHED_RR
        os.sched_setscheduler(native_id, policy, os.sched_param(attempt.value))
        return f"{'SCHED_FIFO' if attempt.kind == 'fifo' else 'SCHED_RR'} {attempt.value}"


def read_thread_sched(native_id: int) -> tuple[int, int, int]:
    """(policy, rt_priority, nice) of a thread of this process, from
    ``/proc/self/task/<tid>/stat`` (what the kernel really holds)."""
    with open(f"/proc/self/task/{native_id}/stat") as f:
        stat = f.read()
    fields = stat[stat.rindex(")") + 2 :].split()
    # fields[0] is field 3 (state); nice is field 19, rt_priority 40, policy 41
    nice = int(fields[19 - 3])
    rt_priority = int(fields[40 - 3])
    policy = int(fields[41 - 3])
    return policy, rt_priority, nice
