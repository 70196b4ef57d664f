"""Independent simulations as tasks on Dask distributed: one laptop or a cluster.

A command that has many independent points (a design-space sweep, Max-Cut seeds, ``make sim``'s
steps) hands them to :func:`run_points` inside :func:`cluster`:

- by default an in-process ``LocalCluster`` (one single-threaded worker process per core:
  simulators and Yosys are single-threaded and not all of them release the GIL);
- with ``--scheduler ADDRESS`` (or ``PICOJOULE_SCHEDULER``) a running cluster, whose workers
  have the repository and its environment (docs/cluster.md). Before any work is sent every
  worker is asked to import the project; one that cannot is named in a one-line error.

A task is ``fn(*args)`` for a function importable from the project (workers import it by
name). A point whose task raises is kept, as a :class:`Outcome` with the error's first line,
never dropped: :func:`failed_line` turns the failures into the one line a command prints. A
worker that dies mid-run loses nothing: the scheduler reruns its tasks on the others.
"""

import logging
import os
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from .flow.toolchain import ToolError

__all__ = ["SCHEDULER_ENV", "Outcome", "scheduler_address", "cluster", "run_points",
           "failed_line", "check_workers", "in_task", "map_points", "timed"]

SCHEDULER_ENV = "PICOJOULE_SCHEDULER"
#: Seconds to wait for a scheduler to answer, and for a running cluster to have a worker.
CONNECT_TIMEOUT = 10
WORKER_TIMEOUT = 30


@dataclass(frozen=True)
class Outcome:
    """One point's result (``ok``: ``value``) or its failure (``error``: one line)."""

    name: str
    ok: bool
    value: Any = None
    error: str = ""
    worker: str = ""
    seconds: float = 0.0
    #: The task's exception (re-raised by callers that keep its type, e.g. DoesNotFit).
    exc: BaseException | None = field(default=None, compare=False, repr=False)


def scheduler_address(given: str | None = None) -> str | None:
    """``--scheduler`` if given, else ``PICOJOULE_SCHEDULER``, else None (a LocalCluster)."""
    address = (given or os.environ.get(SCHEDULER_ENV) or "").strip()
    return address or None


def _first_line(err: BaseException) -> str:
    text = str(err).strip()
    return f"{type(err).__name__}: {text.splitlines()[0]}" if text else type(err).__name__


def _probe_project():
    # Sent by value (a nested function, not importable): it must run on a worker that lacks
    # the project, to say so.
    def probe():
        import importlib

        try:
            importlib.import_module("sim.tasks")
        except Exception as err:  # noqa: BLE001 - any failure means the worker cannot run tasks
            return f"{type(err).__name__}: {err}"
        return None
    return probe


def check_workers(client, address: str, timeout: float = WORKER_TIMEOUT) -> list[str]:
    """Wait for at least one worker; every worker must import the project. Returns their
    addresses; raises :class:`ToolError` naming the scheduler or the worker."""
    try:
        client.wait_for_workers(1, timeout=timeout)
    except (TimeoutError, OSError):
        raise ToolError(f"the Dask scheduler at {address} has no worker after {timeout:g} s "
                        "(start one with `dask worker ADDRESS`, see docs/cluster.md)") from None
    answers = client.run(_probe_project())
    for worker, problem in sorted(answers.items()):
        if problem:
            raise ToolError(f"Dask worker {worker} cannot import the project ({problem}): "
                            "install it there (`pip install -e .` in the repository)")
    return sorted(answers)


def in_task() -> bool:
    """Whether this code runs inside a Dask task (a report that is itself a task)."""
    try:
        from distributed import get_worker

        get_worker()
    except (ImportError, ValueError):
        return False
    return True


@contextmanager
def cluster(address: str | None = None, *, workers: int | None = None, log=None,
            processes: bool = True):
    """A connected ``distributed.Client``: to ``address`` (or ``PICOJOULE_SCHEDULER``), else
    to a new LocalCluster of ``workers`` processes (default: the cores; ``processes=False``:
    worker threads in this process, for tasks that only wait on a tool's subprocess). Inside
    a task (a report run as one task of ``picojoule report``) the task's own cluster, through
    ``worker_client``: the task leaves its worker's slot to its sub-tasks while it waits."""
    from distributed import Client, LocalCluster, worker_client

    if in_task():
        with worker_client() as client:
            yield client
        return
    address = scheduler_address(address)
    local = None
    if address:
        try:
            client = Client(address, timeout=CONNECT_TIMEOUT)
        except (OSError, TimeoutError, ValueError) as err:
            raise ToolError(f"cannot reach the Dask scheduler at {address}: "
                            f"{_first_line(err)}") from None
        try:
            names = check_workers(client, address)
        except BaseException:
            client.close()
            raise
        if log:
            log(f"dask: scheduler {address}, {len(names)} workers")
    else:
        n = workers or os.cpu_count() or 1
        if n < 1:
            raise ToolError(f"workers must be at least 1, not {n!r}")
        # A failed task is reported once, as the one line of its Outcome: the workers' own
        # "Compute Failed" tracebacks (logged at ERROR) stay quiet.
        local = LocalCluster(n_workers=n, threads_per_worker=1, processes=processes,
                             dashboard_address=":0", silence_logs=logging.CRITICAL)
        client = Client(local)
        if log:
            log(f"dask: local cluster, {n} worker {'processes' if processes else 'threads'}")
    try:
        yield client
    finally:
        client.close()
        if local is not None:
            local.close()


def timed(fn, *args):
    """The task a point runs as: ``fn(*args)``, its seconds and the worker that computed it
    (reported in the progress line of each finished task)."""
    from distributed import get_worker

    t0 = time.monotonic()
    value = fn(*args)
    return value, time.monotonic() - t0, get_worker().address


def run_points(client, fn, points: dict, *, log=None) -> dict[str, Outcome]:
    """Run ``fn(*args)`` for each ``name: args`` of ``points`` as Dask tasks; returns every
    point's :class:`Outcome` in the order of ``points`` (failures included). ``log`` gets one
    progress line per finished task, as the stream of results arrives: its worker and
    seconds."""
    from distributed import as_completed

    if not points:
        raise ToolError("nothing to run: the sweep has no points")
    tag = uuid.uuid4().hex[:8]
    futures = {}
    for name, args in points.items():
        key = f"picojoule-{name}-{tag}"
        futures[client.submit(timed, fn, *args, key=key, pure=False)] = name
    out: dict[str, Outcome] = {}
    for i, fut in enumerate(as_completed(futures), 1):
        name = futures[fut]
        try:
            # Not fut.status: a result held by a worker that died since is recomputed, and
            # result() waits for it.
            value, seconds, worker = fut.result()
        except Exception as err:  # noqa: BLE001 - any failure is the point's, kept in its row
            out[name] = Outcome(name, False, error=_first_line(err), exc=err)
            what, where = f"FAILED ({out[name].error})", ""
        else:
            out[name] = Outcome(name, True, value, worker=worker, seconds=seconds)
            what, where = "done", f" on {worker}, {seconds:.1f} s"
        if log:
            log(f"[{i}/{len(points)}] {name}: {what}{where}")
        fut.release()
    return {name: out[name] for name in points}


def failed_line(outcomes: dict[str, Outcome]) -> str | None:
    """One line naming the failed points and the first error, or None if all succeeded."""
    bad = [o for o in outcomes.values() if not o.ok]
    if not bad:
        return None
    names = ", ".join(o.name for o in bad[:5]) + (" ..." if len(bad) > 5 else "")
    return f"{len(bad)} of {len(outcomes)} points failed ({names}); {bad[0].name}: {bad[0].error}"


def map_points(fn, points: dict, *, scheduler: str | None = None, workers: int | None = None,
               log=None, processes: bool = True) -> dict:
    """:func:`run_points` on :func:`cluster`: ``{name: fn(*args)}`` in the order of
    ``points``; if any point failed, :class:`ToolError` with :func:`failed_line`."""
    with cluster(scheduler, workers=workers, log=log, processes=processes) as client:
        out = run_points(client, fn, points, log=log)
    problem = failed_line(out)
    if problem:
        raise ToolError(problem)
    return {name: o.value for name, o in out.items()}
