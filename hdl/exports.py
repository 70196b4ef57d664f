"""Every unit and configuration `picojoule verilog` writes, by top-level module name.

The multiplier names are a contract (checks outside the test suite use them): each
``lmul_<fmt>`` / ``fpmul_<fmt>`` is a purely combinational module with inputs ``a``, ``b`` and
output ``y`` of the format's width.
"""

from functools import partial

from .float import FORMATS
from .lmul import MULTIPLIERS, MulStream

__all__ = ["EXPORTS"]

EXPORTS = {}
for _kind, _cls in MULTIPLIERS.items():
    for _name, _fmt in FORMATS.items():
        EXPORTS[f"{_kind}_{_name}"] = partial(_cls, _fmt)
        EXPORTS[f"{_kind}_{_name}_stream"] = partial(MulStream, _fmt, kind=_kind)
