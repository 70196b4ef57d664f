"""The units ``picojoule energy`` measures and the workload each one runs.

Every exported unit (``hdl.exports.EXPORTS``) plus the in-memory-compute tile and its
von Neumann baseline at the default size. ``ops`` is what the unit counts as one operation:
a multiply (multipliers), a multiply-accumulate (dot-product units, IMC tile and baseline), a
cell-epoch (oscillator array). The RISC-V core runs programs, not an operand workload: its
energy is measured inside the SoC (``picojoule report soc``), so it is listed with that reason.
"""

from dataclasses import dataclass

from sim.power.workloads import Workload

__all__ = ["EnergyUnit", "energy_units", "unit_workload", "NOT_MEASURED"]

#: Units without a stand-alone workload, with the reason (printed by the CLI).
NOT_MEASURED = {
    "core_rv32i": "runs programs: measured inside the SoC (picojoule report soc)",
    "core_rv32im": "runs programs: measured inside the SoC (picojoule report soc)",
}


@dataclass(frozen=True)
class EnergyUnit:
    name: str
    factory: object          # () -> Amaranth component
    op: str                  # what one operation is


def energy_units() -> dict[str, EnergyUnit]:
    """Name -> unit, in the order the CLI lists them."""
    from hdl.exports import EXPORTS
    from hdl.imc import ImcBaseline, ImcParams, ImcTile
    from sim.imc.bench import unit_id

    units = {}
    for name, factory in EXPORTS.items():
        if name in NOT_MEASURED:
            continue
        op = ("multiply-accumulate" if name.startswith(("ldot", "fdot"))
              else "cell-epoch" if name.startswith("onn") else "multiply")
        units[name] = EnergyUnit(name, factory, op)
    p = ImcParams()
    for prefix, cls in (("imc", ImcTile), ("vn", ImcBaseline)):
        name = f"{prefix}_{unit_id(p)}"
        units[name] = EnergyUnit(name, lambda cls=cls: cls(p), "multiply-accumulate")
    return units


def unit_workload(name: str, *, ops: int, seed: int) -> Workload:
    """The workload of unit ``name`` doing about ``ops`` operations (rounded to whole vectors
    or epochs; the result reports the exact count)."""
    if ops < 1:
        raise ValueError(f"ops must be at least 1, not {ops!r}")
    kind, _, rest = name.partition("_")
    if kind in ("lmul", "fpmul", "ldot", "fdot"):
        from sim.lmul.energy import unit_workload as lmul_workload

        return lmul_workload(name, ops=ops, seed=seed)
    if kind in ("imc", "vn"):
        from hdl.imc import ImcParams
        from sim.imc.bench import ImcPower

        p = ImcParams()
        return Workload("sim.imc.bench", "power_products",
                        ImcPower(p, vectors=max(1, round(ops / (p.rows * p.cols))), seed=seed))
    if kind == "onn":
        from hdl.onn import OnnParams
        from sim.onn.report import power_runs

        p = OnnParams(n=int(rest))
        return Workload("sim.onn.bench", "power_epochs",
                        power_runs(p, epochs=max(1, round(ops / p.n)), seed=seed))
    raise ValueError(f"no energy workload for unit {name!r}")
