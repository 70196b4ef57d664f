"""sim.tasks on a real Dask cluster: a scheduler and two worker processes on localhost.

- a small Max-Cut sweep on the cluster equals the same points run in this process;
- a worker killed in the middle of a sweep loses nothing: its tasks rerun on the other worker
  and every result is there and equal;
- bad input is one line naming the address or the worker: an unreachable scheduler, a worker
  that cannot import the project.
"""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from sim import tasks
from sim.flow.toolchain import ROOT, ToolError
from sim.sweep import maxcut_point

DASK = str(Path(sys.executable).parent / "dask")
# Each point about a second of the model: long enough to kill a worker in the middle.
POINTS = {f"seed {s}": (40, 0.5, 1, s, 300) for s in range(1, 9)}


def _start(args, tmp: Path, name: str, env=None) -> subprocess.Popen:
    log = open(tmp / f"{name}.log", "w")
    return subprocess.Popen([DASK, *args], stdout=log, stderr=subprocess.STDOUT, cwd=tmp,
                            env={**os.environ, **(env or {})}, start_new_session=True)


def _address(sched_file: Path, timeout: float = 60) -> str:
    import json

    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        if sched_file.exists():
            try:
                return json.loads(sched_file.read_text())["address"]
            except (ValueError, KeyError):
                pass
        time.sleep(0.2)
    raise TimeoutError(f"no scheduler file {sched_file} after {timeout} s")


def _stop(procs):
    for p in procs:
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGTERM)
    for p in procs:
        try:
            p.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)


def _cluster(tmp: Path, workers: int = 2, worker_env=None, preload=None):
    """Start `dask scheduler` and ``workers`` `dask worker` processes (no nanny: a killed
    worker stays dead). Returns (address, scheduler, [workers])."""
    sched_file = tmp / "scheduler.json"
    sched = _start(["scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
                    "--scheduler-file", str(sched_file)], tmp, "scheduler")
    address = _address(sched_file)
    extra = ["--preload", str(preload)] if preload else []
    ws = [_start(["worker", address, "--nthreads", "1", "--no-nanny", "--no-dashboard",
                  "--name", f"w{i}", *extra], tmp, f"worker{i}", env=worker_env)
          for i in range(workers)]
    return address, sched, ws


@pytest.fixture(scope="module")
def local_results():
    return {name: maxcut_point(*args) for name, args in POINTS.items()}


def test_cluster_sweep_equals_local(tmp_path, local_results):
    address, sched, ws = _cluster(tmp_path)
    try:
        with tasks.cluster(address) as client:
            client.wait_for_workers(2, timeout=60)
            workers = set(client.scheduler_info()["workers"])
            got = tasks.run_points(client, maxcut_point, POINTS)
    finally:
        _stop([*ws, sched])
    assert all(o.ok for o in got.values()), tasks.failed_line(got)
    assert {n: o.value for n, o in got.items()} == local_results
    assert {o.worker for o in got.values()} == workers   # both workers computed points


def test_killed_worker_loses_nothing(tmp_path, local_results):
    address, sched, ws = _cluster(tmp_path)
    killed = []

    def kill_one(line):
        # After the first finished point both workers hold work: kill one of them.
        if not killed:
            os.killpg(ws[0].pid, signal.SIGKILL)
            killed.append(line)

    try:
        with tasks.cluster(address) as client:
            client.wait_for_workers(2, timeout=60)
            got = tasks.run_points(client, maxcut_point, POINTS, log=kill_one)
            survivors = len(client.scheduler_info()["workers"])
    finally:
        _stop([*ws, sched])
    assert killed and ws[0].poll() is not None and survivors == 1
    assert list(got) == list(POINTS)
    assert all(o.ok for o in got.values()), tasks.failed_line(got)
    assert {n: o.value for n, o in got.items()} == local_results


def test_unreachable_scheduler(monkeypatch):
    monkeypatch.setattr(tasks, "CONNECT_TIMEOUT", 2)
    with pytest.raises(ToolError, match=r"cannot reach the Dask scheduler at tcp://127.0.0.1:9"):
        with tasks.cluster("tcp://127.0.0.1:9"):
            pass


def test_environment_variable_names_the_scheduler(monkeypatch):
    monkeypatch.setattr(tasks, "CONNECT_TIMEOUT", 2)
    monkeypatch.setenv(tasks.SCHEDULER_ENV, "tcp://127.0.0.1:9")
    assert tasks.scheduler_address() == "tcp://127.0.0.1:9"
    assert tasks.scheduler_address("tcp://10.0.0.1:8786") == "tcp://10.0.0.1:8786"
    with pytest.raises(ToolError, match="127.0.0.1:9"):
        with tasks.cluster():
            pass


def test_worker_without_the_project(tmp_path):
    # The worker's preload hides the editable install and the repository from its imports.
    hide = tmp_path / "hide_project.py"
    hide.write_text(
        "import sys\n"
        f"root = {str(ROOT)!r}\n"
        "sys.meta_path[:] = [f for f in sys.meta_path\n"
        "                    if '__editable__' not in getattr(f, '__module__', '')]\n"
        "sys.path[:] = [p for p in sys.path if p not in ('', root) and '__editable__' not in p]\n"
        "for m in [m for m in sys.modules if m == 'sim' or m.startswith('sim.')]:\n"
        "    del sys.modules[m]\n")
    address, sched, ws = _cluster(tmp_path, workers=1, preload=hide,
                                  worker_env={"PYTHONPATH": ""})
    try:
        with pytest.raises(ToolError, match=r"Dask worker tcp://127\.0\.0\.1:\d+ cannot import "
                                            r"the project \(ModuleNotFoundError"):
            with tasks.cluster(address):
                pass
    finally:
        _stop([*ws, sched])


def test_failed_point_is_kept_and_named():
    out = {"a": tasks.Outcome("a", True, 1), "imc 3x4": tasks.Outcome("imc 3x4", False,
                                                                       error="ValueError: x")}
    assert tasks.failed_line(out) == "1 of 2 points failed (imc 3x4); imc 3x4: ValueError: x"
    assert tasks.failed_line({"a": out["a"]}) is None
    with pytest.raises(ToolError, match="no points"):
        tasks.run_points(None, maxcut_point, {})


def test_tasks_inside_a_task_use_the_same_cluster():
    """A task that runs its own points (``picojoule report fpga`` placing seeds, a report run
    as one task of ``picojoule report``) submits them to its cluster through worker_client:
    on a one-worker cluster they could not run otherwise, as the outer task holds the slot."""
    inner = {name: POINTS[name] for name in list(POINTS)[:2]}
    with tasks.cluster(workers=1) as client:
        got = tasks.run_points(client, tasks.map_points, {"outer": (maxcut_point, inner)})
    assert got["outer"].ok, got["outer"].error
    assert got["outer"].value == {name: maxcut_point(*args) for name, args in inner.items()}
