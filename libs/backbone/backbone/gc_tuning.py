"""The garbage collector set for a long-lived service, once start-up is done.

Why: CPython's cyclic collector is tuned for short scripts. In a service under load it ran a
full collection every few seconds, each walking the whole heap, most of it made at start-up
(modules, pydantic and FastAPI schemas, routing's model) and never garbage: 100-330 ms in which
nothing else in the process runs, and the complaints it was handling wait. So, once started:
- what start-up made is collected once and then frozen (`gc.freeze`): later collections leave
  it out, and the full ones walk only what the service made since;
- the young generation is larger (`GC_THRESHOLDS`, 10,000 allocations instead of 700): most of
  a batch's objects die before a collection looks at them, so far fewer survive into the old
  generations, and full collections come far less often.
The price is memory: 8-18 MiB more per process under load. A cycle that was made at
start-up and becomes garbage later (a connection replaced after a database restart) is never
freed. The README's benchmark history has the numbers.
"""

from __future__ import annotations

import gc

DEFAULT_THRESHOLDS = "10000,20,10"


def parse_thresholds(text: str) -> tuple[int, int, int] | None:
    """`"young,middle,old"` as `gc.set_threshold` takes them; empty keeps the interpreter's."""
    if not text.strip():
        return None
    try:
        parts = tuple(int(part) for part in text.split(","))
    except ValueError:
        parts = ()
    if len(parts) != 3 or min(parts) < 1:
        raise ValueError(f"three positive whole numbers, young,middle,old (got {text!r})")
    return parts  # type: ignore[return-value]


def settle_after_start(thresholds: str = DEFAULT_THRESHOLDS) -> int:
    """Collect and freeze what start-up made, then set `thresholds` (`GC_THRESHOLDS`'s text);
    returns how many objects were frozen. Called once, when the process is ready."""
    values = parse_thresholds(thresholds)
    gc.collect()
    gc.freeze()
    if values is not None:
        gc.set_threshold(*values)
    return gc.get_freeze_count()
