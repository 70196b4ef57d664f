"""The Un-0 generator on the array RTL (``hdl.onn.OnnArray``), programmed through its CSR bus
with the driver of ``sim.onn.bench``: couplings (JADDR/JDATA), registers, omegas; per image
the ``n`` start phases written, START with keep_phases and ``T`` epochs, then the main cells'
SIN and COS read in one burst (CELL, then SINCOS_INC back to back) and every phase read back
for the check. The array is built ``with_hold`` (the conditioning cells
held through HOLD) unless asked otherwise. :func:`rtl_images` builds and runs it and applies
the integer readout to the SINCOS values the RTL returned."""

from dataclasses import dataclass, replace

import cocotb
import numpy as np

from hdl.onn import OnnArray, OnnParams, RunConfig
from sim.onn.bench import setup
from sim.rtl.bench import record

from .model import Quantized, Un0Params, hold_mask, readout_int, run_config, start_phases

__all__ = ["Un0Runs", "rtl_runs", "rtl_images"]


@dataclass(frozen=True)
class Un0Runs:
    """What the cocotb side needs: the array, couplings ``J`` and ``omega`` (nested tuples),
    the registers, the start phases of every image (``n`` each), the epochs and the HOLD bits
    (None: an array without HOLD)."""
    p: OnnParams
    J: tuple
    omega: tuple
    cfg: RunConfig
    theta: tuple
    epochs: int
    main: int
    hold: tuple | None = None


@cocotb.test()
async def un0_images(dut):
    """One image per entry of ``theta``: PHASE x n, START(keep_phases, T epochs), the main
    cells' SINCOS_INC burst, PHASE x n; records them with EPOCH, CYCLES and the bus accesses
    of the image up to its readout (``accesses``; the readout alone: ``readout_accesses``)."""
    r, a = await setup(dut)
    p = r.p
    await a.load_couplings(np.asarray(r.J))
    await a.configure(r.cfg)
    await a.write_cells("OMEGA", r.omega, p.omega_bits)
    if r.hold is not None:
        await a.write_hold(r.hold)
    out = []
    for theta in r.theta:
        first = a.csr.accesses
        await a.write_cells("PHASE", theta, p.phase_bits)
        await a.go("start", r.epochs, r.cfg.mode, keep=True)
        before = a.csr.accesses
        sc = await a.sincos_burst(0, r.main)
        rec = {"accesses": a.csr.accesses - first, "readout_accesses": a.csr.accesses - before}
        out.append({"theta": await a.phases(), "sin": [s for s, _ in sc],
                    "cos": [c for _, c in sc], "epochs": await a.csr.read("EPOCH"),
                    "cycles": await a.csr.read("CYCLES"), **rec})
    record("images", out)


def rtl_runs(u: Un0Params, q: Quantized, labels, seeds, *, sim: str = "verilator",
             with_hold: bool = True) -> list:
    """Run the images (one per label and seed) on the RTL (``u.p`` built ``with_hold``, the
    conditioning cells held); returns the per-image records (``theta``, ``sin``, ``cos``,
    ``epochs``, ``cycles``)."""
    from sim.rtl import run

    p = replace(u.p, with_hold=with_hold)
    labels = np.asarray(labels, dtype=np.int64)
    theta = np.concatenate([start_phases(u, seeds), q.theta_c[labels]], axis=-1)
    r = Un0Runs(p, tuple(map(tuple, q.J.tolist())), tuple(q.omega.tolist()), run_config(u),
                tuple(map(tuple, theta.tolist())), u.epochs, u.main,
                tuple(bool(b) for b in hold_mask(u)) if with_hold else None)
    res = run(OnnArray(p), key=("OnnArray", p), toplevel=p.name,
              test_module="sim.onn.un0.bench", sim=sim,
              testcase="un0_images", params=r)
    return res.data("images")


def rtl_images(u: Un0Params, q: Quantized, labels, seeds, *, sim: str = "verilator",
               with_hold: bool = True):
    """(final phases B x n, pixels B x 64, records) from the RTL: the pixels are the integer
    readout (:func:`sim.onn.un0.model.readout_int`) of the SINCOS values the RTL returned."""
    recs = rtl_runs(u, q, labels, seeds, sim=sim, with_hold=with_hold)
    theta = np.asarray([rec["theta"] for rec in recs], dtype=np.int64)
    sin = np.asarray([rec["sin"] for rec in recs], dtype=np.int64)
    cos = np.asarray([rec["cos"] for rec in recs], dtype=np.int64)
    return theta, readout_int(u, q, sin, cos), recs
