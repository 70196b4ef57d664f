"""First-run and warm-run times of the README's two commands, on a fresh clone.

    python -m sim.bench_first_run [--what sim,test] [--repo PATH] [--keep] [--json]

For each command (``make sim``, ``make test``) it clones the repository into a new temporary
folder (``git clone``: committed files only, no ``build/``, no ``.venv``), then times

1. ``make venv``: the setup a newcomer's first ``make`` does (pip install of the project);
2. the command on that fresh clone (every simulator model built from cold);
3. the same command again, nothing changed (warm).

and prints each figure as it comes. Each command gets its own clone, so ``make test`` fresh does
not reuse ``make sim``'s builds. The compile cache (ccache) of the clone is its own, empty
directory (``CCACHE_DIR`` under the clone): a first run here is a first run. What the clone does
share with this machine is pip's download cache and YoWASP's compiled WebAssembly (both under
``~/.cache``); ``--no-pip-cache`` turns the first off. Wall-clock seconds depend on the machine's
load: the script prints the load average before and after.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

__all__ = ["main", "measure"]

COMMANDS = {"sim": ["make", "sim"], "test": ["make", "test"]}


def _env(clone: Path, pip_cache: bool) -> dict:
    env = {k: v for k, v in os.environ.items()
           if k not in ("VIRTUAL_ENV", "PICOJOULE_BUILD", "PYTHONPATH", "CCACHE_DIR", "OBJCACHE")}
    # Leave any venv of the calling process off PATH: the clone makes its own.
    venv_bin = Path(sys.prefix) / "bin"
    env["PATH"] = os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep)
                                  if Path(p) != venv_bin)
    env["CCACHE_DIR"] = str(clone / "build" / "ccache")
    if not pip_cache:
        env["PIP_NO_CACHE_DIR"] = "1"
    return env


def _timed(cmd: list[str], cwd: Path, env: dict, log: Path) -> tuple[float, int]:
    t0 = time.monotonic()
    with open(log, "w") as out:
        rc = subprocess.run(cmd, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT,
                            stdin=subprocess.DEVNULL).returncode
    return time.monotonic() - t0, rc


def _load() -> str:
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


def measure(what: str, repo: Path, *, keep: bool = False, pip_cache: bool = True,
            say=print) -> dict:
    """Clone ``repo`` and time setup, fresh and warm runs of ``make <what>``."""
    clone = Path(tempfile.mkdtemp(prefix=f"pj-bench-{what}-"))
    subprocess.run(["git", "clone", "--quiet", str(repo), str(clone)], check=True)
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=clone, check=True,
                            capture_output=True, text=True).stdout.strip()
    env = _env(clone, pip_cache)
    out = {"command": " ".join(COMMANDS[what]), "clone": str(clone), "commit": commit,
           "cores": os.cpu_count(), "load_before": _load()}
    say(f"[{what}] fresh clone of {repo} at {commit} in {clone} (load average {_load()})")
    try:
        for step, cmd in (("setup", ["make", "venv"]), ("fresh", COMMANDS[what]),
                          ("warm", COMMANDS[what])):
            log = clone / f"bench-{what}-{step}.log"
            seconds, rc = _timed(cmd, clone, env, log)
            out[f"{step}_s"] = round(seconds, 1)
            out[f"{step}_rc"] = rc
            say(f"[{what}] {step:5s} {' '.join(cmd):10s} {seconds:7.1f} s  exit {rc}  "
                f"(log: {log})")
            if rc != 0:
                say(f"[{what}] stopped: `{' '.join(cmd)}` failed; see {log}")
                break
        if "fresh_s" in out:
            out["first_run_s"] = round(out["setup_s"] + out["fresh_s"], 1)
            say(f"[{what}] first run, setup included: {out['first_run_s']:.1f} s "
                f"({out['first_run_s'] / 60:.1f} min)")
    finally:
        out["load_after"] = _load()
        if not keep and all(out.get(f"{s}_rc", 0) == 0 for s in ("setup", "fresh", "warm")):
            shutil.rmtree(clone, ignore_errors=True)
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sim.bench_first_run",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--what", default="sim,test", help="sim, test or both (comma list)")
    parser.add_argument("--repo", default=str(Path(__file__).resolve().parent.parent),
                        help="repository to clone (default: this one)")
    parser.add_argument("--keep", action="store_true", help="keep the clones")
    parser.add_argument("--no-pip-cache", action="store_true",
                        help="download every package again (PIP_NO_CACHE_DIR)")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args(argv)
    whats = [w.strip() for w in args.what.split(",") if w.strip()]
    bad = [w for w in whats if w not in COMMANDS]
    if not whats or bad:
        parser.error(f"--what takes sim, test or both, not {args.what!r}")
    results = [measure(w, Path(args.repo), keep=args.keep, pip_cache=not args.no_pip_cache)
               for w in whats]
    if args.json:
        print(json.dumps(results, indent=1))
    return 0 if all(r.get("warm_rc") == 0 for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
