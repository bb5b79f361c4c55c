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
    """CPU used by each platform process between start() and stop(), as % of one core."""

    def __init__(self, processes: dict[str, psutil.Process]) -> None:
        self._processes = processes
        self._before: dict[str, float] = {}
        self._machine_before = None
        self._started = 0.0

    def start(self) -> None:
        self._before = {name: cpu_seconds(p, name in WITH_CHILDREN) for name, p in self._processes.items()}
        self._machine_before = _machine_busy()
        self._started = time.monotonic()

    def stop(self) -> dict[str, float]:
        wall = max(time.monotonic() - self._started, 1e-9)
        used = {name: round(100 * (cpu_seconds(p, name in WITH_CHILDREN) - self._before.get(name, 0.0)) / wall, 1)
                for name, p in self._processes.items()}
        # The whole machine, including whatever else runs on it: 100% per core.
        machine = round(100 * (_machine_busy() - self._machine_before) / wall, 1)
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
