"""cocotb driver of the multipliers: every operand pair of a :class:`MulCheck` through the
combinational unit, compared with the golden model (used by ``make sim`` and tb/test_lmul.py).

:func:`run_check` drives the pairs in bulk: a Verilog harness around the unit reads them from a
hex file, applies one pair per nanosecond and writes every product to another file, so Python
touches files, not operands (65,536 pairs on Verilator: 0.3 s of simulation instead of 2.5-3 s
one by one through cocotb)."""

from dataclasses import dataclass

import cocotb
import numpy as np
from cocotb.triggers import RisingEdge

from hdl.float import FloatFormat
from sim.lmul.model import MODELS, special_values
from sim.rtl.bench import params, record, seed

#: Pairs the bulk harness holds: every fp8 pair, or bf16's specials plus 100,000 random pairs.
BULK_DEPTH = 1 << 17


@dataclass(frozen=True)
class MulCheck:
    fmt: FloatFormat
    kind: str
    vectors: str = "exhaustive"     # exhaustive | specials+random | sampled
    n_random: int = 0


def operand_pairs(check: MulCheck, rng: np.random.Generator):
    fmt = check.fmt
    parts = []
    if check.vectors == "exhaustive":
        a, b = np.meshgrid(np.arange(1 << fmt.width), np.arange(1 << fmt.width))
        parts.append((a.ravel(), b.ravel()))
    else:
        s = special_values(fmt)
        a, b = np.meshgrid(s, s)
        parts.append((a.ravel(), b.ravel()))
    if check.n_random:
        parts.append(tuple(rng.integers(0, 1 << fmt.width, size=(2, check.n_random))))
    a = np.concatenate([p[0] for p in parts]).astype(np.uint32)
    b = np.concatenate([p[1] for p in parts]).astype(np.uint32)
    return a, b


def report_mismatches(check, a, b, got, want):
    bad = np.flatnonzero(got != want)
    assert bad.size == 0, (
        f"{check.kind}_{check.fmt.name}: {bad.size} of {a.size} products differ from the model; "
        "first: " + ", ".join(f"{int(a[i]):#x}*{int(b[i]):#x}={int(got[i]):#x} "
                              f"(model {int(want[i]):#x})" for i in bad[:5]))


def bulk_harness(text: str, top: str, width: int) -> tuple[str, str]:
    """``text`` plus a module ``<top>_bulk`` that, once ``start`` is set, applies the pairs of
    ``a.hex``/``b.hex`` (count in ``n.hex``) to ``top`` one per ns, writes the products to
    ``y.hex`` and sets ``done``. Returns (Verilog, harness top)."""
    w = width - 1
    harness = f"""
module {top}_bulk(input start, output reg done);
  reg [{w}:0] a_mem [0:{BULK_DEPTH - 1}];
  reg [{w}:0] b_mem [0:{BULK_DEPTH - 1}];
  reg [{w}:0] y_mem [0:{BULK_DEPTH - 1}];
  reg [31:0] n_mem [0:0];
  reg [{w}:0] a, b;
  wire [{w}:0] y;
  integer i;
  {top} dut (.a(a), .b(b), .y(y));
  initial begin
    done = 1'b0;
    wait (start);
    $readmemh("n.hex", n_mem);
    $readmemh("a.hex", a_mem, 0, n_mem[0] - 1);
    $readmemh("b.hex", b_mem, 0, n_mem[0] - 1);
    for (i = 0; i < n_mem[0]; i = i + 1) begin
      a = a_mem[i];
      b = b_mem[i];
      #1;
      y_mem[i] = y;
    end
    $writememh("y.hex", y_mem, 0, n_mem[0] - 1);
    done = 1'b1;
  end
endmodule
"""
    return text + harness, f"{top}_bulk"


def run_check(unit, *, toplevel: str, sim: str, check: MulCheck, **kw):
    """Every pair of ``check`` through ``unit`` (combinational, ports a, b, y) in the bulk
    harness; the run's record ``check`` holds pairs, mismatches and the seed."""
    from sim.rtl.runner import convert, run

    if check.fmt.width > 16:
        raise ValueError(f"the bulk harness takes formats up to 16 bits, not {check.fmt.name}")
    text, top = bulk_harness(convert(unit, toplevel), toplevel, check.fmt.width)
    # --timing: the harness's delays and `wait` run inside Verilator (g++ needs coroutines).
    return run(None, toplevel=top, test_module="sim.lmul.bench", sim=sim, params=check,
               testcase="check_bulk", verilog_text=text,
               verilator_args=["--timing", "-CFLAGS", "-fcoroutines"], **kw)


def _read_hex(path: str, n: int) -> np.ndarray:
    out = np.full(n, -1, dtype=np.int64)   # -1: no value or x/z (a mismatch, never dropped)
    with open(path) as f:   # Icarus writes "// 0x<address>" comment lines
        words = [w for line in f for w in line.split("//")[0].split() if not w.startswith("@")]
    for i, w in enumerate(words[:n]):
        try:
            out[i] = int(w, 16)
        except ValueError:
            pass
    return out


@cocotb.test()
async def check_bulk(dut):
    """The bulk harness of :func:`run_check`: stimulus and results through files."""
    check = params()
    rng = np.random.default_rng(seed())
    a, b = operand_pairs(check, rng)
    if a.size > BULK_DEPTH:
        raise ValueError(f"{a.size} pairs do not fit the bulk harness ({BULK_DEPTH})")
    want = MODELS[check.kind](check.fmt, a, b)
    for name, arr in (("a", a), ("b", b)):
        with open(f"{name}.hex", "w") as f:
            f.write("\n".join(f"{int(x):x}" for x in arr.tolist()) + "\n")
    with open("n.hex", "w") as f:
        f.write(f"{a.size:x}\n")
    dut.start.value = 1
    await RisingEdge(dut.done)
    got = _read_hex("y.hex", a.size)
    record("check", {"pairs": int(a.size), "mismatches": int((got != want).sum()),
                     "seed": seed()})
    report_mismatches(check, a, b, got, want)
