"""Every unit and configuration `picojoule verilog` writes, by top-level module name.

The multiplier names are a contract (checks outside the test suite use them): each
``lmul_<fmt>`` / ``fpmul_<fmt>`` is a purely combinational module with inputs ``a``, ``b`` and
output ``y`` of the format's width.
"""

from functools import partial

from .float import FORMATS
from .ldot import DotParams, DotUnit
from .lmul import MULTIPLIERS, MulStream
from .onn import OnnArray, OnnParams

__all__ = ["EXPORTS"]

EXPORTS = {}
for _kind, _cls in MULTIPLIERS.items():
    for _name, _fmt in FORMATS.items():
        EXPORTS[f"{_kind}_{_name}"] = partial(_cls, _fmt)
        EXPORTS[f"{_kind}_{_name}_stream"] = partial(MulStream, _fmt, kind=_kind)

for _fmt in ("e4m3", "e5m2"):
    for _kind in MULTIPLIERS:
        _p = DotParams(FORMATS[_fmt], lanes=8, kind=_kind)
        EXPORTS[_p.name] = partial(DotUnit, _p)

# Oscillator arrays: a small one and the 64-cell array of the FPGA table (docs/onn.md).
for _n in (8, 64):
    EXPORTS[f"onn_{_n}"] = partial(OnnArray, OnnParams(n=_n))

# The RISC-V control core: RV32I and RV32IM, with the RVFI retire port (docs/riscv.md).
from .riscv.core import Core, CoreParams  # noqa: E402

for _muldiv in (False, True):
    _cp = CoreParams(with_muldiv=_muldiv)
    EXPORTS[f"core_{_cp.name}"] = partial(Core, _cp)
