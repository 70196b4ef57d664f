"""The Un-0 generator on the array RTL (``hdl.onn.OnnArray``), programmed through its CSR bus
with the driver of ``sim.onn.bench``: couplings (JADDR/JDATA), registers, omegas; per image
the ``n`` start phases written, START with keep_phases and ``T`` epochs, then every phase and
the main cells' SINCOS read back. :func:`rtl_images` builds and runs it and applies the
integer readout to the SINCOS values the RTL returned."""

from dataclasses import dataclass

import cocotb
import numpy as np

from hdl.onn import OnnArray, OnnParams, RunConfig
from sim.onn.bench import setup
from sim.rtl.bench import record

from .model import Quantized, Un0Params, readout_int, run_config, start_phases

__all__ = ["Un0Runs", "rtl_runs", "rtl_images"]


@dataclass(frozen=True)
class Un0Runs:
    """What the cocotb side needs: the array, couplings ``J`` and ``omega`` (nested tuples),
    the registers, the start phases of every image (``n`` each) and the epochs."""
    p: OnnParams
    J: tuple
    omega: tuple
    cfg: RunConfig
    theta: tuple
    epochs: int
    main: int


@cocotb.test()
async def un0_images(dut):
    """One image per entry of ``theta``: PHASE x n, START(keep_phases, T epochs), PHASE x n
    and SINCOS of the main cells read; records them with EPOCH and CYCLES."""
    r, a = await setup(dut)
    p = r.p
    await a.load_couplings(np.asarray(r.J))
    await a.configure(r.cfg)
    await a.write_cells("OMEGA", r.omega, p.omega_bits)
    out = []
    for theta in r.theta:
        await a.write_cells("PHASE", theta, p.phase_bits)
        await a.go("start", r.epochs, r.cfg.mode, keep=True)
        sc = [await a.sincos(i) for i in range(r.main)]
        out.append({"theta": await a.phases(), "sin": [s for s, _ in sc],
                    "cos": [c for _, c in sc], "epochs": await a.csr.read("EPOCH"),
                    "cycles": await a.csr.read("CYCLES")})
    record("images", out)


def rtl_runs(u: Un0Params, q: Quantized, labels, seeds, *, sim: str = "verilator") -> list:
    """Run the images (one per label and seed) on the RTL; returns the per-image records
    (``theta``, ``sin``, ``cos``, ``epochs``, ``cycles``)."""
    from sim.rtl import run

    labels = np.asarray(labels, dtype=np.int64)
    theta = np.concatenate([start_phases(u, seeds), q.theta_c[labels]], axis=-1)
    r = Un0Runs(u.p, tuple(map(tuple, q.J.tolist())), tuple(q.omega.tolist()), run_config(u),
                tuple(map(tuple, theta.tolist())), u.epochs, u.main)
    res = run(OnnArray(u.p), toplevel=u.p.name, test_module="sim.onn.un0.bench", sim=sim,
              testcase="un0_images", params=r)
    return res.data("images")


def rtl_images(u: Un0Params, q: Quantized, labels, seeds, *, sim: str = "verilator"):
    """(final phases B x n, pixels B x 64, records) from the RTL: the pixels are the integer
    readout (:func:`sim.onn.un0.model.readout_int`) of the SINCOS values the RTL returned."""
    recs = rtl_runs(u, q, labels, seeds, sim=sim)
    theta = np.asarray([rec["theta"] for rec in recs], dtype=np.int64)
    sin = np.asarray([rec["sin"] for rec in recs], dtype=np.int64)
    cos = np.asarray([rec["cos"] for rec in recs], dtype=np.int64)
    return theta, readout_int(u, q, sin, cos), recs
