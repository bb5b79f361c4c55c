"""CPU time and memory of every process of the platform, so a phase's numbers come with where
the two cores went: the slowest stage is usually the one near 100% of a core.

PostgreSQL is a postmaster plus one backend per connection; its CPU is the postmaster's own,
its live children's, and (through the postmaster's children_* counters) that of backends that
already exited, so short-lived connections are not lost. Every other process counts alone: the
bench process is the parent of the services it started, and must not be charged for them.
"Others" is what the machine spent beyond all of these: other people's work on a shared box.
"""

from __future__ import annotations

import os
import time

import psutil

from devstack.stack import SERVICES, Stack


def platform_processes(stack: Stack) -> dict[str, psutil.Process]:
    pids = {name: stack._pid(name) for name in (*SERVICES, "mailcatcher")}  # noqa: SLF001
    pids["kafka"] = stack.kafka._pid()  # noqa: SLF001
    pids["postgres"] = stack.postgres._postmaster_pid()  # noqa: SLF001
    pids["bench"] = os.getpid()
    processes = {}
    for name, pid in pids.items():
        if pid:
            try:
                processes[name] = psutil.Process(pid)
            except psutil.NoSuchProcess:
                pass
    return processes


WITH_CHILDREN = {"postgres"}


def cpu_seconds(process: psutil.Process, with_children: bool = False) -> float:
    try:
        with process.oneshot():
            t = process.cpu_times()
            total = t.user + t.system
            if not with_children:
                return total
            total += t.children_user + t.children_system
            children = process.children(recursive=True)
    except psutil.NoSuchProcess:
        return 0.0
    for child in children:
        try:
            c = child.cpu_times()
            total += c.user + c.system
        except psutil.NoSuchProcess:
            pass
    return total


class CpuMeter:
    """CPU used by each platform process between start() and the phase's end, as % of one core.

    The end is the last mark() (the bench marks each time new e-mail arrives), not the moment
    stop() is called: a phase whose last complaints never get the awaited e-mail (one sent to
    triage waits for an operator) is waited on until the stall timeout, and that idle wait
    would otherwise dilute the figures of a machine that was saturated until the last e-mail."""

    def __init__(self, processes: dict[str, psutil.Process]) -> None:
        self._processes = processes
        self._before: tuple[float, float, dict[str, float]] | None = None
        self._last: tuple[float, float, dict[str, float]] | None = None

    def _reading(self) -> tuple[float, float, dict[str, float]]:
        return (time.monotonic(), _machine_busy(),
                {name: cpu_seconds(p, name in WITH_CHILDREN) for name, p in self._processes.items()})

    def start(self) -> None:
        self._before, self._last = self._reading(), None

    def mark(self, min_interval: float = 1.0) -> None:
        """Progress: the phase is still working now. A reading costs the bench about 3 ms of
        CPU (every process and PostgreSQL's backends), taken from the machine being measured,
        so at most one per `min_interval`: the window ends at most that much before the last
        e-mail, and its figures stay consistent with its own end."""
        if self._last is None or time.monotonic() - self._last[0] >= min_interval:
            self._last = self._reading()

    def stop(self) -> dict[str, float]:
        if self._before is None:
            raise RuntimeError("CpuMeter.stop() before start()")
        started, machine_before, before = self._before
        at, machine_busy, after = self._last or self._reading()
        wall = max(at - started, 1e-9)
        used = {name: round(100 * (after[name] - before.get(name, 0.0)) / wall, 1) for name in after}
        # The whole machine, including whatever else runs on it: 100% per core.
        machine = round(100 * (machine_busy - machine_before) / wall, 1)
        used["others"] = round(max(0.0, machine - sum(used.values())), 1)
        used["machine"] = machine
        return used


def _machine_busy() -> float:
    t = psutil.cpu_times()
    return t.user + t.nice + t.system + t.irq + t.softirq


def rss_mib(processes: dict[str, psutil.Process]) -> dict[str, float]:
    """Resident memory per process; PostgreSQL's is the postmaster's alone (backends share
    most of their pages with it, so summing them would overstate it several times)."""
    out = {}
    for name, p in processes.items():
        try:
            out[name] = round(p.memory_info().rss / 2**20, 1)
        except psutil.NoSuchProcess:
            pass
    return out
