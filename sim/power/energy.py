# Ref: M. Horowitz, "Computing's energy problem (and what we can do about it)", ISSCC 2014,
#      45 nm, 0.9 V; J. Sun et al., ZigZag-IMC (KU Leuven, 2023) gate capacitances at 28 nm;
#      interconnect pJ/bit as collected in /work/shared/ANCHORS.md (sources named per entry).
"""Every energy constant picojoule uses, each with its source, in one table.

Nothing else in ``sim/power`` holds a number in farads, volts or joules: the gate-level proxy,
the memory and bus charges and the reports all read :data:`CONSTANTS` through the helpers here.
An entry whose ``source`` starts with ``"estimate:"`` is ours, not a published figure, and says
how it was chosen; reports print that label next to the figure.

Model (the contract of :func:`net_toggle_energy_fj` and friends):

- a net that makes one transition charges or discharges the input pins it drives plus a wire
  estimate per driven pin: ``E = 1/2 * C * V^2`` with ``C = sum(pin caps) + fanout * c_wire``;
- a flip-flop's clock pin is such a load on the clock net, which makes two transitions per
  cycle, so every flip-flop is charged ``C_clk * V^2`` per cycle whether or not it captures
  new data (clock gating would remove that; the units here have none);
- a memory access is charged the published per-access energy of the nearest array size, scaled
  by word width from the 64-bit reference;
- a bit crossing a named boundary is charged the pJ/bit of its interconnect tier.
"""

from dataclasses import dataclass

__all__ = ["Constant", "CONSTANTS", "VDD", "PIN_CAP_FF", "CELL_PINS", "INTERCONNECT",
           "SRAM_READ_64B_PJ", "OPS_45NM_PJ", "value", "is_estimate", "pin_cap_ff",
           "transition_energy_fj", "memory_access_pj", "interconnect_pj_per_bit",
           "constants_table"]


@dataclass(frozen=True)
class Constant:
    value: float
    unit: str
    source: str

    @property
    def estimate(self) -> bool:
        return self.source.startswith("estimate:")


_ZZ = "ZigZag-IMC gate capacitance, 28 nm, 0.9 V (Sun et al. 2023)"
_HZ = "Horowitz ISSCC 2014, 45 nm, 0.9 V"

#: name -> Constant. The only place a physical constant is written.
CONSTANTS: dict[str, Constant] = {
    # -- supply ----------------------------------------------------------------------------
    "vdd": Constant(0.9, "V", f"{_ZZ}; same supply as {_HZ}"),
    # -- gate capacitances (ZigZag-IMC) and the cells we map onto them ----------------------
    "c_nand2": Constant(0.7, "fF", _ZZ),
    "c_xor2": Constant(1.05, "fF", _ZZ),
    "c_dff": Constant(2.1, "fF", _ZZ),
    "c_inv": Constant(0.35, "fF", "estimate: half a NAND2 (one transistor pair per input "
                                  "instead of two)"),
    "c_and2": Constant(0.7, "fF", "estimate: NAND2 class (AND/OR/NOR/ANDNOT/ORNOT are a NAND2 "
                                  "or NOR2 with an inverter; the input pin is the NAND2/NOR2 "
                                  "one)"),
    "c_mux2": Constant(1.05, "fF", "estimate: XOR2 class (transmission-gate/AOI structure "
                                   "like XOR2)"),
    "c_dff_d": Constant(0.7, "fF", "estimate: DFF data pin loads like one NAND2 input"),
    "c_wire_per_pin": Constant(0.2, "fF", "estimate: local wire of ~1-2 um per driven pin at "
                                          "~0.1-0.2 fF/um (28 nm local metal)"),
    # -- Horowitz ISSCC 2014 per-operation and per-access energies (45 nm) -----------------
    "sram_read_64b_8kb": Constant(10.0, "pJ", _HZ + ", 64-bit read, 8 KB SRAM"),
    "sram_read_64b_32kb": Constant(20.0, "pJ", _HZ + ", 64-bit read, 32 KB SRAM"),
    "sram_read_64b_1mb": Constant(100.0, "pJ", _HZ + ", 64-bit read, 1 MB SRAM"),
    "dram_access_64b": Constant(1950.0, "pJ", _HZ + ": DRAM 1.3-2.6 nJ per 64-bit access; "
                                              "midpoint"),
    "sram_write_over_read": Constant(1.0, "x", "estimate: Horowitz lists reads only; a write "
                                               "is charged like a read"),
    "int_add_8b": Constant(0.03, "pJ", _HZ),
    "int_add_32b": Constant(0.1, "pJ", _HZ),
    "int_mult_8b": Constant(0.2, "pJ", _HZ),
    "int_mult_32b": Constant(3.1, "pJ", _HZ),
    "fp_add_16b": Constant(0.4, "pJ", _HZ),
    "fp_add_32b": Constant(0.9, "pJ", _HZ),
    "fp_mult_16b": Constant(1.1, "pJ", _HZ),
    "fp_mult_32b": Constant(3.7, "pJ", _HZ),
    # -- interconnect tiers, pJ per bit transferred -----------------------------------------
    "wire_on_die_per_mm": Constant(0.15, "pJ/bit/mm", "on-die wire ~0.1-0.2 pJ/bit/mm "
                                                      "(ANCHORS.md); midpoint"),
    "ucie_2d": Constant(0.55, "pJ/bit", "UCIe 2D (standard package) 0.5-0.6 pJ/bit (UCIe 1.0 "
                                        "spec targets); midpoint"),
    "ucie_2p5d": Constant(0.275, "pJ/bit", "UCIe 2.5D (advanced package) 0.25-0.3 pJ/bit "
                                           "(UCIe 1.0 spec targets); midpoint"),
    "hybrid_bond_3d": Constant(0.03, "pJ/bit", "3D hybrid bonding 0.01-0.05 pJ/bit "
                                               "(ANCHORS.md); midpoint"),
    "hbm2": Constant(4.0, "pJ/bit", "HBM2 ~4 pJ/bit (ANCHORS.md)"),
    "gddr5": Constant(14.0, "pJ/bit", "GDDR5 ~14 pJ/bit (ANCHORS.md)"),
    "serdes_copper_lr": Constant(8.0, "pJ/bit", "long-reach copper SerDes 6-10 pJ/bit "
                                                "(ANCHORS.md); midpoint"),
    "optics_pluggable": Constant(17.5, "pJ/bit", "pluggable optics module 15-20 pJ/bit in "
                                                 "total (ANCHORS.md); midpoint"),
    "optics_cpo": Constant(6.25, "pJ/bit", "co-packaged optics ~5-7.5 pJ/bit (Nvidia ~9 W per "
                                           "1.6 Tb/s port = 5.6; Broadcom 5.5); midpoint"),
}

VDD = CONSTANTS["vdd"].value

#: Input-pin capacitance (fF) by Yosys generic cell type and pin; "C" is a clock pin.
CELL_PINS: dict[str, dict[str, str]] = {
    "$_NOT_": {"A": "c_inv"},
    "$_BUF_": {"A": "c_inv"},
    "$_AND_": {"A": "c_and2", "B": "c_and2"},
    "$_OR_": {"A": "c_and2", "B": "c_and2"},
    "$_NAND_": {"A": "c_nand2", "B": "c_nand2"},
    "$_NOR_": {"A": "c_nand2", "B": "c_nand2"},
    "$_ANDNOT_": {"A": "c_and2", "B": "c_and2"},
    "$_ORNOT_": {"A": "c_and2", "B": "c_and2"},
    "$_XOR_": {"A": "c_xor2", "B": "c_xor2"},
    "$_XNOR_": {"A": "c_xor2", "B": "c_xor2"},
    "$_MUX_": {"A": "c_mux2", "B": "c_mux2", "S": "c_mux2"},
    "$_DFF_P_": {"C": "c_dff", "D": "c_dff_d"},
}
PIN_CAP_FF = {cell: {pin: CONSTANTS[name].value for pin, name in pins.items()}
              for cell, pins in CELL_PINS.items()}

#: 64-bit SRAM read energy by array size (bytes), Horowitz 2014.
SRAM_READ_64B_PJ = {8 << 10: "sram_read_64b_8kb", 32 << 10: "sram_read_64b_32kb",
                    1 << 20: "sram_read_64b_1mb"}

#: Interconnect tier -> constant name (pJ/bit; on-die wire is per mm).
INTERCONNECT = {
    "on_die_wire": "wire_on_die_per_mm",
    "ucie_2p5d": "ucie_2p5d",
    "ucie_2d": "ucie_2d",
    "hybrid_bond_3d": "hybrid_bond_3d",
    "hbm2": "hbm2",
    "gddr5": "gddr5",
    "copper_serdes": "serdes_copper_lr",
    "optics_pluggable": "optics_pluggable",
    "optics_cpo": "optics_cpo",
}
#: Tiers whose bits leave the die (charged as off-chip, not as on-chip bus).
OFF_CHIP_TIERS = frozenset(INTERCONNECT) - {"on_die_wire", "hybrid_bond_3d"}

#: Horowitz 45 nm per-operation energies, by (operation, bits), for the paper-style comparison.
OPS_45NM_PJ = {("int_add", 8): "int_add_8b", ("int_add", 32): "int_add_32b",
               ("int_mult", 8): "int_mult_8b", ("int_mult", 32): "int_mult_32b",
               ("fp_add", 16): "fp_add_16b", ("fp_add", 32): "fp_add_32b",
               ("fp_mult", 16): "fp_mult_16b", ("fp_mult", 32): "fp_mult_32b"}


def value(name: str) -> float:
    try:
        return CONSTANTS[name].value
    except KeyError:
        raise KeyError(f"no energy constant {name!r}; known: {', '.join(CONSTANTS)}") from None


def is_estimate(name: str) -> bool:
    return CONSTANTS[name].estimate


def pin_cap_ff(cell_type: str, pin: str) -> float:
    """Input capacitance (fF) of ``pin`` of a Yosys generic cell; unknown cells are an error."""
    try:
        return PIN_CAP_FF[cell_type][pin]
    except KeyError:
        raise KeyError(f"no capacitance for pin {pin!r} of cell {cell_type!r}: map it in "
                       "sim/power/energy.py CELL_PINS (with a source)") from None


def transition_energy_fj(cap_ff: float, vdd: float = VDD) -> float:
    """Energy (fJ) of one transition of a node of ``cap_ff`` fF: 1/2 C V^2."""
    return 0.5 * cap_ff * vdd * vdd


def memory_access_pj(size_bytes: int, word_bits: int, *, write: bool = False,
                     dram: bool = False) -> float:
    """Energy (pJ) of one access of ``word_bits`` to an SRAM of ``size_bytes`` (or DRAM).

    Uses the smallest tabulated array at least as large (the largest if none is), scaled
    linearly by word width from Horowitz's 64-bit figure.
    """
    if word_bits <= 0:
        raise ValueError(f"word_bits must be positive, not {word_bits!r}")
    if dram:
        base = value("dram_access_64b")
    else:
        if size_bytes <= 0:
            raise ValueError(f"size_bytes must be positive, not {size_bytes!r}")
        sizes = sorted(SRAM_READ_64B_PJ)
        fit = next((s for s in sizes if s >= size_bytes), sizes[-1])
        base = value(SRAM_READ_64B_PJ[fit])
    if write:
        base *= value("sram_write_over_read")
    return base * word_bits / 64


def interconnect_pj_per_bit(tier: str, length_mm: float = 1.0) -> float:
    """pJ per bit for ``tier`` (on-die wire scales with ``length_mm``)."""
    if tier not in INTERCONNECT:
        raise KeyError(f"unknown interconnect tier {tier!r}; known: {', '.join(INTERCONNECT)}")
    e = value(INTERCONNECT[tier])
    return e * length_mm if tier == "on_die_wire" else e


def constants_table() -> str:
    """The table as Markdown (for docs and reports)."""
    rows = ["| constant | value | unit | source |", "|---|---|---|---|"]
    rows += [f"| `{k}` | {c.value:g} | {c.unit} | {c.source} |" for k, c in CONSTANTS.items()]
    return "\n".join(rows)
