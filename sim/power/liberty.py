"""Liberty (.lib) reader for power and timing, and Verilog cell models generated from it.

The parser is written here rather than taken from PyPI because ``liberty-parser`` is GPL-3 and
picojoule is Apache-2.0.

Units: every public number is converted from the library's own units to **ns** (time, slews),
**pF** (capacitance), **nW** (leakage), **V** (voltage) and **pJ** (internal energy), using
``time_unit``, ``capacitive_load_unit``, ``leakage_power_unit`` and ``voltage_unit``. The factors
are kept on :class:`Library` (``time_unit_ns``, ...). Internal-power tables (``rise_power``,
``fall_power``, ``power``) hold energy per transition in capacitive_load_unit x voltage_unit^2
(pF x V^2 = pJ for OSU 0.18 and sky130); this is the scale OpenSTA applies to them
(``energy_scale_ = volt_scale_ * volt_scale_ * cap_scale_`` in LibertyReader::setEnergyScale,
used by beginRisePower/beginFallPower in liberty/LibertyReader.cc).

Tables: :meth:`Table.lookup` maps its arguments to the table's variables by NAME (OSU puts
``total_output_net_capacitance`` first, sky130 ``input_net_transition``), interpolates linearly
along each axis inside the grid and extrapolates linearly from the two end points outside it, as
OpenSTA does. A table's own ``index_N`` overrides its template's (OSU templates hold the
placeholders 1000, 1001, ...). ``scalar`` tables hold one value.

``when`` on internal power: for one (pin, related pin, direction) an arc without ``when`` is
used if there is one; otherwise the arcs that differ only by ``when`` are averaged with equal
weight. For the usual complete, mutually exclusive sets of conditions this is what OpenSTA
computes when every input has its default 0.5 probability. A cell with only ``leakage_power``
groups (``when``-conditioned) gets the plain average of their values as ``leakage_nw``; a
``cell_leakage_power`` attribute takes precedence.

Default input slew: :data:`DEFAULT_INPUT_SLEW_NS` (0.1 ns), unless the library sets
``default_input_transition``. 0.1 ns lies inside the characterised slew range of both OSU 0.18
(0.06-1.8 ns) and sky130 hd (0.01-1.5 ns); it stands for the edge of a primary input driven by
a small on-chip buffer when nothing better is known.

Cell models (:func:`cell_models`) come from the liberty alone: ``function`` gives continuous
assigns, ``ff``/``latch`` groups give edge/level-sensitive always blocks, ``three_state`` gives
``1'bz``. Asynchronous clear/preset are edge-triggered in the model (as in Yosys's ``$dffsr``
simulation model): releasing one of two asserted controls does not re-evaluate the other until
the next event. With ``with_specify=True`` each module has a ``specify`` block of zero delays,
one path per (related pin, output, edge) of the liberty's delay arcs (arcs differing only by
``when`` share one unconditional path), so an SDF file (IOPATH, with or without edge
specifiers) annotates real delays in Icarus (``iverilog -gspecify``, ``$sdf_annotate``). Timing
checks (setup/hold/recovery/removal) are not modelled.
"""

import bisect
import itertools
import math
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np

__all__ = [
    "LibertyError", "DEFAULT_INPUT_SLEW_NS", "Library", "Cell", "Pin", "FlipFlop", "Latch",
    "PowerArc", "TimingArc", "Table", "Template", "read_liberty", "parse_liberty",
    "Expr", "Var", "Const", "Not", "BinOp", "parse_function", "evaluate", "to_verilog",
    "variables", "cell_models",
]

#: Slew assumed for a pin nobody drives with a known transition (see the module docstring).
DEFAULT_INPUT_SLEW_NS = 0.1


class LibertyError(ValueError):
    """A problem with a liberty file or expression; the text is one line naming file and line."""


# --------------------------------------------------------------------------------------------
# Tokenizer and generic parser: groups, simple and complex attributes.

_TOKEN = re.compile(r"""
    (?P<ws>[ \t\r\n\f\v]+|\\[ \t]*\r?\n)
  | (?P<comment>/\*.*?\*/|//[^\n]*)
  | (?P<string>"(?:[^"\\]|\\.)*")
  | (?P<punct>[(){}:;,])
  | (?P<word>(?:[^\s(){}:;,"\\/]|/(?![*/]))+)
  | (?P<bad>.)
""", re.VERBOSE | re.DOTALL)
_CONTINUATION = re.compile(r"\\[ \t]*\r?\n")


class _Attr:
    __slots__ = ("name", "values", "line", "is_complex")

    def __init__(self, name: str, values: tuple[str, ...], line: int, is_complex: bool):
        self.name = name
        self.values = values
        self.line = line
        self.is_complex = is_complex


class _Group:
    __slots__ = ("kind", "args", "line", "attrs", "groups")

    def __init__(self, kind: str, args: tuple[str, ...], line: int):
        self.kind = kind
        self.args = args
        self.line = line
        self.attrs: dict[str, _Attr] = {}
        self.groups: list[_Group] = []

    def value(self, name: str) -> str | None:
        attr = self.attrs.get(name)
        return attr.values[0] if attr is not None and attr.values else None

    def of(self, kind: str) -> list["_Group"]:
        return [g for g in self.groups if g.kind == kind]


class _Parser:
    def __init__(self, text: str, path: str):
        self.path = path
        self.text = text
        self.newlines = [m.start() for m in re.finditer("\n", text)]
        kinds, values, starts = [], [], []
        for m in _TOKEN.finditer(text):
            kind = m.lastgroup
            if kind == "ws" or kind == "comment":
                continue
            if kind == "bad":
                ch = m.group()
                pos = m.start()
                if text.startswith("/*", pos):
                    self.fail(pos, "unterminated /* comment")
                if ch == '"':
                    self.fail(pos, "unterminated string")
                self.fail(pos, f"unexpected character {ch!r}")
            if kind == "string":
                values.append(_CONTINUATION.sub("", m.group()[1:-1]))
            else:
                values.append(m.group())
            kinds.append(m.group() if kind == "punct" else kind)
            starts.append(m.start())
        self.kinds, self.values, self.starts = kinds, values, starts
        self.i = 0

    def line(self, pos: int) -> int:
        return bisect.bisect_left(self.newlines, pos) + 1

    def fail(self, pos: int, msg: str):
        raise LibertyError(f"{self.path}:{self.line(pos)}: {msg}")

    def _pos(self, i: int) -> int:
        return self.starts[i] if i < len(self.starts) else len(self.text)

    def _describe(self, i: int) -> str:
        return repr(self.values[i]) if i < len(self.kinds) else "end of file"

    def parse(self) -> _Group:
        if not self.kinds:
            self.fail(0, "empty file: expected `library (name) { ... }`")
        stmt = self.statement()
        if not isinstance(stmt, _Group) or stmt.kind != "library":
            self.fail(self.starts[0], "expected `library (name) { ... }` at top level")
        if self.i < len(self.kinds):
            self.fail(self.starts[self.i], f"unexpected {self._describe(self.i)} after library")
        return stmt

    def statement(self) -> _Group | _Attr:
        kinds, values = self.kinds, self.values
        i = self.i
        if kinds[i] != "word":
            self.fail(self.starts[i], f"expected an attribute or group name, "
                                      f"got {self._describe(i)}")
        name, start = values[i], self.starts[i]
        line = self.line(start)
        i += 1
        kind = kinds[i] if i < len(kinds) else None
        if kind == ":":
            i += 1
            vals = []
            while i < len(kinds) and kinds[i] in ("word", "string"):
                # A missing ';' is tolerated when the value ends its line.
                if vals and "\n" in self.text[self.starts[i - 1]:self.starts[i]]:
                    break
                vals.append(values[i])
                i += 1
            if not vals:
                self.fail(self._pos(i), f"missing value after `{name} :`")
            if i < len(kinds) and kinds[i] == ";":
                i += 1
            self.i = i
            return _Attr(name, (" ".join(vals),), line, False)
        if kind != "(":
            self.fail(self._pos(i), f"expected ':' or '(' after {name!r}, "
                                    f"got {self._describe(i)}")
        i += 1
        args = []
        while True:
            if i >= len(kinds):
                self.fail(start, f"{name} ( is not closed (end of file at line "
                                 f"{self.line(len(self.text))})")
            k = kinds[i]
            if k == ")":
                i += 1
                break
            if k in ("word", "string"):
                args.append(values[i])
            elif k != ",":
                self.fail(self.starts[i], f"unexpected {values[i]!r} in the arguments of {name}")
            i += 1
        if i < len(kinds) and kinds[i] == "{":
            group = _Group(name, tuple(args), line)
            i += 1
            self.i = i
            while True:
                if self.i >= len(kinds):
                    self.fail(start, f"group {name} ({', '.join(args)}) is not closed "
                                     f"(end of file at line {self.line(len(self.text))})")
                if kinds[self.i] == "}":
                    self.i += 1
                    break
                stmt = self.statement()
                if isinstance(stmt, _Group):
                    group.groups.append(stmt)
                else:
                    group.attrs[stmt.name] = stmt
            if self.i < len(kinds) and kinds[self.i] == ";":
                self.i += 1
            return group
        if i < len(kinds) and kinds[i] == ";":
            i += 1
        self.i = i
        return _Attr(name, tuple(args), line, True)


# --------------------------------------------------------------------------------------------
# Boolean function expressions.

@dataclass(frozen=True)
class Var:
    name: str


@dataclass(frozen=True)
class Const:
    value: int


@dataclass(frozen=True)
class Not:
    arg: "Expr"


@dataclass(frozen=True)
class BinOp:
    """``op`` is ``"&"``, ``"|"`` or ``"^"``."""

    op: str
    left: "Expr"
    right: "Expr"


Expr = Var | Const | Not | BinOp

_FUNC_TOKEN = re.compile(r"\s*(?:(?P<name>[A-Za-z_][A-Za-z0-9_.$\[\]]*)|(?P<const>[01])"
                         r"|(?P<op>[!'*&+|^()]))")


@lru_cache(maxsize=4096)
def parse_function(text: str) -> Expr:
    """Parse a liberty boolean expression (``function``, ``when``, ``next_state``, ...).

    Operators, strongest first: ``!A`` and ``A'`` (not), ``^`` (xor), ``*``, ``&`` or
    juxtaposition ``A B`` (and), ``+`` and ``|`` (or); parentheses; constants ``0``/``1``.
    """
    src = re.sub(r"\\(.)", r"\1", text)    # sdf-style escapes such as "S\&R"
    tokens: list[tuple[str, str, int]] = []
    pos = 0
    while pos < len(src):
        if src[pos:].strip() == "":
            break
        m = _FUNC_TOKEN.match(src, pos)
        if m is None or m.end() == pos:
            raise LibertyError(f"bad function {text!r}: unexpected {src[pos:].strip()[0]!r}")
        kind = m.lastgroup
        tokens.append((kind, m.group(kind), m.start(kind)))
        pos = m.end()
    if not tokens:
        raise LibertyError(f"bad function {text!r}: empty")
    k = 0

    def peek() -> tuple[str, str, int] | None:
        return tokens[k] if k < len(tokens) else None

    def fail(msg: str):
        raise LibertyError(f"bad function {text!r}: {msg}")

    def or_expr() -> Expr:
        nonlocal k
        left = and_expr()
        while (t := peek()) is not None and t[1] in ("+", "|"):
            k += 1
            left = BinOp("|", left, and_expr())
        return left

    def and_expr() -> Expr:
        nonlocal k
        left = xor_expr()
        while (t := peek()) is not None:
            if t[1] in ("*", "&"):
                k += 1
            elif not (t[0] in ("name", "const") or t[1] in ("(", "!")):
                break
            left = BinOp("&", left, xor_expr())
        return left

    def xor_expr() -> Expr:
        nonlocal k
        left = unary()
        while (t := peek()) is not None and t[1] == "^":
            k += 1
            left = BinOp("^", left, unary())
        return left

    def unary() -> Expr:
        nonlocal k
        t = peek()
        if t is None:
            fail("ends early")
        if t[1] == "!":
            k += 1
            return Not(unary())
        if t[0] == "name":
            k += 1
            node: Expr = Var(t[1])
        elif t[0] == "const":
            k += 1
            node = Const(int(t[1]))
        elif t[1] == "(":
            k += 1
            node = or_expr()
            if (c := peek()) is None or c[1] != ")":
                fail("missing ')'")
            k += 1
        else:
            fail(f"unexpected {t[1]!r} at column {t[2] + 1}")
        while (t := peek()) is not None and t[1] == "'":
            k += 1
            node = Not(node)
        return node

    expr = or_expr()
    if k != len(tokens):
        fail(f"unexpected {tokens[k][1]!r} at column {tokens[k][2] + 1}")
    return expr


def _as_expr(expr: "Expr | str") -> Expr:
    return parse_function(expr) if isinstance(expr, str) else expr


def evaluate(expr: "Expr | str", values: Mapping[str, int]) -> int:
    """Value (0 or 1) of ``expr`` with ``values[name]`` for each variable (KeyError if absent)."""
    expr = _as_expr(expr)
    if isinstance(expr, Var):
        return 1 if values[expr.name] else 0
    if isinstance(expr, Const):
        return expr.value
    if isinstance(expr, Not):
        return 1 - evaluate(expr.arg, values)
    a, b = evaluate(expr.left, values), evaluate(expr.right, values)
    return (a & b) if expr.op == "&" else (a | b) if expr.op == "|" else (a ^ b)


def variables(expr: "Expr | str") -> tuple[str, ...]:
    """Variable names of ``expr`` in order of first appearance."""
    out: dict[str, None] = {}

    def walk(e: Expr):
        if isinstance(e, Var):
            out.setdefault(e.name)
        elif isinstance(e, Not):
            walk(e.arg)
        elif isinstance(e, BinOp):
            walk(e.left)
            walk(e.right)

    walk(_as_expr(expr))
    return tuple(out)


_VERILOG_KEYWORDS = frozenset("""
    always and assign begin buf bufif0 bufif1 case casex casez cmos deassign default defparam
    disable edge else end endcase endfunction endmodule endprimitive endspecify endtable endtask
    event for force forever fork function highz0 highz1 if ifnone initial inout input integer
    join large macromodule medium module nand negedge nmos nor not notif0 notif1 or output
    parameter pmos posedge primitive pull0 pull1 pulldown pullup rcmos real realtime reg release
    repeat rnmos rpmos rtran rtranif0 rtranif1 scalared small specify specparam strong0 strong1
    supply0 supply1 table task time tran tranif0 tranif1 tri tri0 tri1 triand trior trireg
    vectored wait wand weak0 weak1 while wire wor xnor xor logic bit byte int shortint longint
    signed unsigned generate genvar localparam automatic
""".split())


def _vid(name: str) -> str:
    """A Verilog identifier for ``name`` (escaped when it is not a plain one)."""
    if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_$]*", name) and name not in _VERILOG_KEYWORDS:
        return name
    return f"\\{name} "


def to_verilog(expr: "Expr | str", names: Mapping[str, str] | None = None) -> str:
    """Verilog text of ``expr``; ``names`` renames variables (default: the liberty names)."""
    expr = _as_expr(expr)
    names = names or {}
    if isinstance(expr, Var):
        return names.get(expr.name) or _vid(expr.name)
    if isinstance(expr, Const):
        return f"1'b{expr.value}"
    if isinstance(expr, Not):
        return f"~{to_verilog(expr.arg, names)}"
    return f"({to_verilog(expr.left, names)} {expr.op} {to_verilog(expr.right, names)})"


# --------------------------------------------------------------------------------------------
# Data model.

_TIME_VARS = frozenset({"input_net_transition", "input_transition_time", "related_pin_transition",
                        "constrained_pin_transition", "output_net_transition",
                        "output_transition", "input_noise_width"})
_CAP_VARS = frozenset({"total_output_net_capacitance", "related_out_total_output_net_capacitance",
                       "equal_or_opposite_output_net_capacitance", "output_net_pin_cap"})
_SLEW_VARS = frozenset({"input_net_transition", "input_transition_time",
                        "related_pin_transition"})


@dataclass(frozen=True)
class Template:
    """A ``lu_table_template`` / ``power_lut_template``: variable names and (raw) indices."""

    name: str
    variables: tuple[str, ...]
    indices: tuple[tuple[float, ...], ...]


@dataclass(frozen=True, eq=False)
class Table:
    """A lookup table in public units: indices in ns / pF by variable, values in ns or pJ.

    ``values.shape`` is ``tuple(len(i) for i in indices)``; a scalar table has no variables and
    a 0-d ``values``.
    """

    variables: tuple[str, ...]
    indices: tuple[np.ndarray, ...]
    values: np.ndarray
    template: str | None = None
    # Python copies for the per-transition lookups (numpy scalar access is slow).
    _axes: tuple[tuple[float, ...], ...] = field(init=False, repr=False)
    _flat: list[float] = field(init=False, repr=False)
    _strides: tuple[int, ...] = field(init=False, repr=False)

    def __post_init__(self):
        shape = self.values.shape
        object.__setattr__(self, "_axes", tuple(tuple(float(v) for v in a) for a in self.indices))
        object.__setattr__(self, "_flat", self.values.ravel().tolist())
        object.__setattr__(self, "_strides",
                           tuple(math.prod(shape[k + 1:]) for k in range(len(shape))))

    @property
    def is_scalar(self) -> bool:
        return not self.variables

    def lookup(self, *, slew_ns: float | None = None, load_pf: float | None = None,
               constrained_slew_ns: float | None = None) -> float:
        """Value at an input slew and output load (each needed only if the table has it).

        ``slew_ns`` feeds ``input_net_transition``, ``input_transition_time`` and
        ``related_pin_transition``; ``load_pf`` feeds ``total_output_net_capacitance``;
        ``constrained_slew_ns`` feeds ``constrained_pin_transition`` (setup/hold tables).
        """
        point = {}
        for var in self.variables:
            if var in _SLEW_VARS:
                x = slew_ns
            elif var == "total_output_net_capacitance":
                x = load_pf
            elif var == "constrained_pin_transition":
                x = constrained_slew_ns
            else:
                raise ValueError(f"table variable {var!r} is not supported by lookup(); "
                                 "use lookup_point()")
            if x is None:
                raise ValueError(f"table needs {var!r}: pass "
                                 f"{'load_pf' if var in _CAP_VARS else 'slew_ns'}")
            point[var] = x
        return self.lookup_point(point)

    def lookup_point(self, point: Mapping[str, float]) -> float:
        """Value at ``point`` (variable name to value in ns or pF), multilinear with linear
        extrapolation outside the grid; axes of one point use that point's value."""
        if not self.variables:
            return float(self.values)
        corners: list[tuple[tuple[int, float], ...]] = []
        for var, axis in zip(self.variables, self._axes):
            if var not in point:
                raise ValueError(f"table needs a value for {var!r}")
            x = float(point[var])
            n = len(axis)
            if n == 1:
                corners.append(((0, 1.0),))
                continue
            i = min(max(bisect.bisect_right(axis, x) - 1, 0), n - 2)
            t = (x - axis[i]) / (axis[i + 1] - axis[i])
            corners.append(((i, 1.0 - t), (i + 1, t)))
        total = 0.0
        values = self._flat
        for combo in itertools.product(*corners):
            weight = 1.0
            offset = 0
            for (idx, w), stride in zip(combo, self._strides):
                weight *= w
                offset += idx * stride
            if weight != 0.0:
                total += weight * values[offset]
        return total

@dataclass(frozen=True)
class PowerArc:
    """One ``internal_power`` group: energy per transition (pJ) of the pin it sits on.

    ``rise``/``fall`` are for the pin's own rising/falling transition: an output pin's arcs
    (``related_pin`` set) index by the related input's slew and the output load; an input
    pin's arcs (``related_pin`` None, e.g. a flip-flop's CLK or D) by the pin's own slew.
    """

    related_pin: str | None
    when: str | None
    rise: Table | None
    fall: Table | None


@dataclass(frozen=True)
class TimingArc:
    """One ``timing`` group (delays and transitions in ns)."""

    related_pin: str
    timing_type: str
    timing_sense: str | None
    when: str | None
    cell_rise: Table | None
    cell_fall: Table | None
    rise_transition: Table | None
    fall_transition: Table | None
    rise_constraint: Table | None = None
    fall_constraint: Table | None = None


@dataclass(frozen=True)
class Pin:
    name: str
    direction: str                     # input, output, inout or internal
    capacitance_pf: float
    rise_capacitance_pf: float
    fall_capacitance_pf: float
    function: str | None
    three_state: str | None
    is_clock: bool
    internal_power: tuple[PowerArc, ...]
    timing: tuple[TimingArc, ...]
    max_capacitance_pf: float | None = None

    def power_arcs(self, related_pin: str | None) -> tuple[PowerArc, ...]:
        """The ``internal_power`` arcs of this pin from ``related_pin`` (all ``when`` variants)."""
        return tuple(a for a in self.internal_power if a.related_pin == related_pin)

    def internal_energy_pj(self, related_pin: str | None, *, rising: bool, slew_ns: float,
                           load_pf: float = 0.0) -> float:
        """Internal energy (pJ) of one rising/falling transition of this pin caused by
        ``related_pin`` (None: the input pin's own arcs), by the ``when`` rule of the module
        docstring; 0.0 when the liberty has no such arc."""
        arcs = self.power_arcs(related_pin)
        tables = [a.rise if rising else a.fall for a in arcs]
        plain = [t for a, t in zip(arcs, tables) if t is not None and a.when is None]
        tables = plain or [t for t in tables if t is not None]
        if not tables:
            return 0.0
        return sum(t.lookup(slew_ns=slew_ns, load_pf=load_pf) for t in tables) / len(tables)

    def power_arc(self, related_pin: str | None, *, slew_ns: float,
                  load_pf: float = 0.0) -> tuple[float, float]:
        """Effective (rise, fall) internal energies in pJ; see :meth:`internal_energy_pj`."""
        return (self.internal_energy_pj(related_pin, rising=True, slew_ns=slew_ns,
                                        load_pf=load_pf),
                self.internal_energy_pj(related_pin, rising=False, slew_ns=slew_ns,
                                        load_pf=load_pf))


@dataclass(frozen=True)
class FlipFlop:
    """An ``ff (state, state_n)`` group; the expressions are liberty function strings.
    ``clear_preset_var1``/``2`` (L, H, N, T or X) set the states when clear and preset are
    both active."""

    state: str
    state_n: str
    clocked_on: str
    next_state: str
    clear: str | None = None
    preset: str | None = None
    clear_preset_var1: str | None = None
    clear_preset_var2: str | None = None


@dataclass(frozen=True)
class Latch:
    """A ``latch (state, state_n)`` group."""

    state: str
    state_n: str
    enable: str
    data_in: str
    clear: str | None = None
    preset: str | None = None
    clear_preset_var1: str | None = None
    clear_preset_var2: str | None = None


@dataclass(frozen=True, eq=False)
class Cell:
    name: str
    area: float
    leakage_nw: float | None
    pins: dict[str, Pin]
    ff: FlipFlop | None = None
    latch: Latch | None = None
    leakage_states: tuple[tuple[str | None, float], ...] = ()   # (when, nW) of leakage_power
    dont_use: bool = False
    unmodelled: str | None = None      # why cell_models() cannot model it (None: it can)

    @property
    def inputs(self) -> tuple[str, ...]:
        return tuple(n for n, p in self.pins.items() if p.direction in ("input", "inout"))

    @property
    def outputs(self) -> tuple[str, ...]:
        return tuple(n for n, p in self.pins.items() if p.direction in ("output", "inout"))

    @property
    def is_sequential(self) -> bool:
        return self.ff is not None or self.latch is not None

    @property
    def clock_pins(self) -> tuple[str, ...]:
        """Pins marked ``clock : true`` or used by the ff's ``clocked_on``/latch's ``enable``."""
        used: set[str] = set()
        if self.ff is not None:
            used.update(variables(self.ff.clocked_on))
        if self.latch is not None:
            used.update(variables(self.latch.enable))
        return tuple(n for n, p in self.pins.items() if p.is_clock or n in used)


@dataclass(frozen=True, eq=False)
class Library:
    """A liberty library in public units; ``*_unit_*`` are the library's units in ours."""

    name: str
    path: Path
    time_unit_ns: float
    cap_unit_pf: float
    voltage_unit_v: float
    leakage_unit_nw: float
    nom_voltage: float                 # V
    default_input_slew_ns: float
    cells: dict[str, Cell]
    templates: dict[str, Template] = field(default_factory=dict)

    @property
    def energy_unit_pj(self) -> float:
        """pJ per unit of the internal-power tables (capacitive_load_unit x voltage_unit^2)."""
        return self.cap_unit_pf * self.voltage_unit_v ** 2

    def cell(self, name: str) -> Cell:
        try:
            return self.cells[name]
        except KeyError:
            raise LibertyError(f"{self.path}: no cell {name!r} in library {self.name}") from None

    @property
    def has_internal_power(self) -> bool:
        return any(p.internal_power for c in self.cells.values() for p in c.pins.values())

    @property
    def has_leakage(self) -> bool:
        return any(c.leakage_nw is not None for c in self.cells.values())

    def require_power(self) -> "Library":
        """Self, or LibertyError if the library has neither internal power nor leakage."""
        if not (self.has_internal_power or self.has_leakage):
            raise LibertyError(f"{self.path}: no internal power or leakage data in library "
                               f"{self.name}; energy needs a liberty characterised for power")
        return self


# --------------------------------------------------------------------------------------------
# From the generic tree to the data model.

_TIME_UNITS = {"s": 1e9, "ms": 1e6, "us": 1e3, "ns": 1.0, "ps": 1e-3, "fs": 1e-6}
_CAP_UNITS = {"f": 1e12, "mf": 1e9, "uf": 1e6, "nf": 1e3, "pf": 1.0, "ff": 1e-3}
_VOLT_UNITS = {"v": 1.0, "mv": 1e-3, "kv": 1e3}
_POWER_UNITS = {"w": 1e9, "mw": 1e6, "uw": 1e3, "nw": 1.0, "pw": 1e-3, "fw": 1e-6}
_NUMBER_UNIT = re.compile(r"\s*([0-9.eE+-]+)\s*([A-Za-z]+)\s*")
_SPLIT = re.compile(r"[,\s]+")


class _Builder:
    def __init__(self, root: _Group, path: str):
        self.path = path
        self.root = root

    def fail(self, line: int, msg: str):
        raise LibertyError(f"{self.path}:{line}: {msg}")

    def number(self, attr: _Attr) -> float:
        try:
            return float(attr.values[0])
        except (ValueError, IndexError):
            self.fail(attr.line, f"{attr.name} is not a number: {' '.join(attr.values)!r}")

    def unit(self, group: _Group, name: str, table: dict[str, float], default: float | None
             ) -> float | None:
        attr = group.attrs.get(name)
        if attr is None:
            return default
        if attr.is_complex:                              # capacitive_load_unit (1, pf)
            text = " ".join(attr.values)
        else:
            text = attr.values[0]
        m = _NUMBER_UNIT.fullmatch(text.replace(",", " "))
        scale = table.get(m.group(2).lower()) if m else None
        try:
            number = float(m.group(1)) if m else None
        except ValueError:
            number = None
        if scale is None or number is None:
            self.fail(attr.line, f"{name} {text!r} not understood "
                                 f"(units: {', '.join(table)})")
        return number * scale

    def floats(self, attr: _Attr) -> list[float]:
        out = []
        for chunk in attr.values:
            for tok in _SPLIT.split(chunk.strip()):
                if tok:
                    try:
                        out.append(float(tok))
                    except ValueError:
                        self.fail(attr.line, f"{attr.name}: {tok!r} is not a number")
        return out

    def expr(self, text: str | None, line: int, what: str) -> str | None:
        if text is None:
            return None
        try:
            parse_function(text)
        except LibertyError as err:
            self.fail(line, f"{what}: {err}")
        return text

    def build(self) -> Library:
        root = self.root
        name = root.args[0] if root.args else "?"
        self.time = self.unit(root, "time_unit", _TIME_UNITS, 1.0)
        self.cap = self.unit(root, "capacitive_load_unit", _CAP_UNITS, 1.0)
        self.volt = self.unit(root, "voltage_unit", _VOLT_UNITS, 1.0)
        self.leak = self.unit(root, "leakage_power_unit", _POWER_UNITS, None)
        self.energy = self.cap * self.volt ** 2
        nom = root.attrs.get("nom_voltage")
        if nom is not None:
            vdd = self.number(nom) * self.volt
        else:
            conds = {g.args[0] if g.args else "": g for g in root.of("operating_conditions")}
            chosen = conds.get(root.value("default_operating_conditions") or "")
            chosen = chosen or next(iter(conds.values()), None)
            if chosen is None or "voltage" not in chosen.attrs:
                self.fail(root.line, f"library {name} has no nom_voltage")
            vdd = self.number(chosen.attrs["voltage"]) * self.volt
        slew_attr = root.attrs.get("default_input_transition")
        slew = (self.number(slew_attr) * self.time if slew_attr is not None
                else DEFAULT_INPUT_SLEW_NS)
        self.templates: dict[str, Template] = {}
        for g in root.groups:
            if g.kind in ("lu_table_template", "power_lut_template") and g.args:
                vars_ = []
                idx = []
                for k in (1, 2, 3):
                    var = g.value(f"variable_{k}")
                    if var is None:
                        break
                    vars_.append(var)
                    ia = g.attrs.get(f"index_{k}")
                    idx.append(tuple(self.floats(ia)) if ia is not None else ())
                self.templates[g.args[0]] = Template(g.args[0], tuple(vars_), tuple(idx))
        cells = {}
        for g in root.of("cell"):
            cell = self.cell(g)
            cells[cell.name] = cell
        return Library(name=name, path=Path(self.path), time_unit_ns=self.time,
                       cap_unit_pf=self.cap, voltage_unit_v=self.volt,
                       leakage_unit_nw=self.leak if self.leak is not None else 1.0,
                       nom_voltage=vdd, default_input_slew_ns=slew, cells=cells,
                       templates=self.templates)

    def table(self, g: _Group, value_scale: float) -> Table:
        tname = g.args[0] if g.args else None
        template = self.templates.get(tname) if tname else None
        if tname and template is None and tname != "scalar":
            self.fail(g.line, f"{g.kind} uses unknown template {tname!r}")
        values_attr = g.attrs.get("values")
        if values_attr is None:
            self.fail(g.line, f"{g.kind} has no values")
        values = self.floats(values_attr)
        if template is None or not template.variables:
            if len(values) != 1:
                self.fail(values_attr.line, f"{g.kind} without a template needs one value, "
                                            f"has {len(values)}")
            return Table((), (), np.array(values[0] * value_scale), tname)
        indices = []
        for k, var in enumerate(template.variables, start=1):
            own = g.attrs.get(f"index_{k}")
            axis = self.floats(own) if own is not None else list(template.indices[k - 1])
            if not axis:
                self.fail(g.line, f"{g.kind} has no index_{k} (nor has template {tname})")
            if any(b <= a for a, b in zip(axis, axis[1:])):
                self.fail(own.line if own else g.line,
                          f"index_{k} of {g.kind} is not strictly increasing")
            scale = self.time if var in _TIME_VARS else self.cap if var in _CAP_VARS else 1.0
            arr = np.array(axis, dtype=float) * scale
            arr.setflags(write=False)
            indices.append(arr)
        shape = tuple(len(a) for a in indices)
        if len(values) != math.prod(shape):
            self.fail(values_attr.line, f"{g.kind} has {len(values)} values, its indices "
                                        f"need {'x'.join(map(str, shape))}")
        arr = np.array(values, dtype=float).reshape(shape) * value_scale
        arr.setflags(write=False)
        return Table(template.variables, tuple(indices), arr, tname)

    def cell(self, g: _Group) -> Cell:
        if not g.args:
            self.fail(g.line, "cell without a name")
        name = g.args[0]
        reasons = []
        area_attr = g.attrs.get("area")
        area = self.number(area_attr) if area_attr is not None else 0.0
        leak_attr = g.attrs.get("cell_leakage_power")
        states = []
        for lg in g.of("leakage_power"):
            va = lg.attrs.get("value")
            if va is None:
                continue
            when = self.expr(lg.value("when"), lg.line, f"cell {name} leakage_power when")
            states.append((when, self.number(va)))
        if (leak_attr is not None or states) and self.leak is None:
            self.fail((leak_attr or g).line, "leakage values but no leakage_power_unit")
        if leak_attr is not None:
            leakage = self.number(leak_attr) * self.leak
        elif states:
            leakage = sum(v for _, v in states) / len(states) * self.leak
        else:
            leakage = None
        leakage_states = tuple((w, v * self.leak) for w, v in states)
        pins: dict[str, Pin] = {}
        for pg in g.groups:
            if pg.kind == "pin":
                for pin_name in pg.args:
                    pins[pin_name] = self.pin(pg, pin_name, name)
            elif pg.kind in ("bus", "bundle"):
                reasons.append(f"{pg.kind} pins are not modelled")
            elif pg.kind in ("statetable", "ff_bank", "latch_bank"):
                reasons.append(f"{pg.kind} is not modelled")
        ff = latch = None
        for fg in g.of("ff"):
            ff = FlipFlop(*self.states(fg, name),
                          clocked_on=self.req(fg, "clocked_on", name),
                          next_state=self.req(fg, "next_state", name),
                          **self.clear_preset(fg, name))
        for lg in g.of("latch"):
            latch = Latch(*self.states(lg, name),
                          enable=self.req(lg, "enable", name),
                          data_in=self.req(lg, "data_in", name),
                          **self.clear_preset(lg, name))
        if ff is not None and latch is not None:
            reasons.append("both ff and latch")
        state_names = set()
        for seq in (ff, latch):
            if seq is not None:
                state_names.update((seq.state, seq.state_n))
        known = set(pins) | state_names
        for p in pins.values():
            if p.direction == "internal":
                reasons.append(f"internal pin {p.name}")
            elif p.direction in ("output", "inout"):
                if p.function is None:
                    if p.direction == "output":
                        reasons.append(f"output {p.name} has no function")
                    continue
                unknown = [v for v in variables(p.function) if v not in known]
                if unknown:
                    reasons.append(f"output {p.name} uses unknown {', '.join(unknown)}")
        dont_use = (g.value("dont_use") or "false").lower() == "true"
        return Cell(name=name, area=area, leakage_nw=leakage, pins=pins, ff=ff, latch=latch,
                    leakage_states=leakage_states, dont_use=dont_use,
                    unmodelled="; ".join(reasons) or None)

    def states(self, g: _Group, cell: str) -> tuple[str, str]:
        if len(g.args) != 2:
            self.fail(g.line, f"{g.kind} of cell {cell} needs two state variable names")
        return g.args[0], g.args[1]

    def req(self, g: _Group, key: str, cell: str) -> str:
        attr = g.attrs.get(key)
        if attr is None:
            self.fail(g.line, f"{g.kind} of cell {cell} has no {key}")
        return self.expr(attr.values[0], attr.line, f"cell {cell} {g.kind} {key}")

    def clear_preset(self, g: _Group, cell: str) -> dict[str, str | None]:
        out = {}
        for key in ("clear", "preset"):
            attr = g.attrs.get(key)
            out[key] = (self.expr(attr.values[0], attr.line, f"cell {cell} {g.kind} {key}")
                        if attr is not None else None)
        for key in ("clear_preset_var1", "clear_preset_var2"):
            value = g.value(key)
            if value is not None and value.upper() not in ("L", "H", "N", "T", "X"):
                self.fail(g.attrs[key].line, f"{key} must be L, H, N, T or X, not {value!r}")
            out[key] = value.upper() if value is not None else None
        return out

    def pin(self, g: _Group, name: str, cell: str) -> Pin:
        def cap(key: str) -> float | None:
            attr = g.attrs.get(key)
            return self.number(attr) * self.cap if attr is not None else None

        direction = (g.value("direction") or "input").lower()
        c, rc, fc = cap("capacitance"), cap("rise_capacitance"), cap("fall_capacitance")
        if c is None:
            present = [v for v in (rc, fc) if v is not None]
            c = sum(present) / len(present) if present else 0.0
        where = f"cell {cell} pin {name}"
        function = g.attrs.get("function")
        three = g.attrs.get("three_state")
        powers = []
        timings = []
        for sub in g.groups:
            if sub.kind == "internal_power":
                when = self.expr(sub.value("when"), sub.line, f"{where} internal_power when")
                rise = fall = None
                for tg in sub.groups:
                    if tg.kind in ("rise_power", "power"):
                        rise = self.table(tg, self.energy)
                    if tg.kind in ("fall_power", "power"):
                        fall = self.table(tg, self.energy)
                related = sub.value("related_pin")
                for rel in (related.split() if related else [None]):
                    powers.append(PowerArc(rel, when, rise, fall))
            elif sub.kind == "timing":
                when = self.expr(sub.value("when"), sub.line, f"{where} timing when")
                tables: dict[str, Table | None] = {}
                for tg in sub.groups:
                    if tg.kind in ("cell_rise", "cell_fall", "rise_transition", "fall_transition",
                                   "rise_constraint", "fall_constraint"):
                        tables[tg.kind] = self.table(tg, self.time)
                related = sub.value("related_pin") or ""
                for rel in related.split():
                    timings.append(TimingArc(
                        related_pin=rel,
                        timing_type=sub.value("timing_type") or "combinational",
                        timing_sense=sub.value("timing_sense"), when=when,
                        cell_rise=tables.get("cell_rise"), cell_fall=tables.get("cell_fall"),
                        rise_transition=tables.get("rise_transition"),
                        fall_transition=tables.get("fall_transition"),
                        rise_constraint=tables.get("rise_constraint"),
                        fall_constraint=tables.get("fall_constraint")))
        return Pin(
            name=name, direction=direction, capacitance_pf=c,
            rise_capacitance_pf=rc if rc is not None else c,
            fall_capacitance_pf=fc if fc is not None else c,
            function=(self.expr(function.values[0], function.line, f"{where} function")
                      if function is not None else None),
            three_state=(self.expr(three.values[0], three.line, f"{where} three_state")
                         if three is not None else None),
            is_clock=(g.value("clock") or "false").lower() == "true",
            internal_power=tuple(powers), timing=tuple(timings),
            max_capacitance_pf=cap("max_capacitance"))


def parse_liberty(text: str, *, path: str | os.PathLike = "<text>") -> Library:
    """Parse liberty ``text``; ``path`` names it in errors and becomes :attr:`Library.path`."""
    root = _Parser(text, str(path)).parse()
    return _Builder(root, str(path)).build()


_CACHE: dict[Path, tuple[tuple[int, int], Library]] = {}


def read_liberty(path: str | os.PathLike) -> Library:
    """Read and parse a liberty file (cached by path, mtime and size)."""
    p = Path(path).resolve()
    try:
        st = p.stat()
        key = (st.st_mtime_ns, st.st_size)
        hit = _CACHE.get(p)
        if hit is not None and hit[0] == key:
            return hit[1]
        text = p.read_text(encoding="utf-8", errors="replace")
    except OSError as err:
        raise LibertyError(f"{path}: cannot read liberty file: "
                           f"{err.strerror or err}") from None
    lib = parse_liberty(text, path=path)
    _CACHE[p] = (key, lib)
    return lib


# --------------------------------------------------------------------------------------------
# Verilog cell models.

_COMB_TYPES = frozenset({"combinational", "combinational_rise", "combinational_fall",
                         "three_state_enable", "three_state_disable",
                         "three_state_enable_rise", "three_state_enable_fall",
                         "three_state_disable_rise", "three_state_disable_fall"})


def _unique(base: str, taken: set[str]) -> str:
    name = base
    while name in taken:
        name += "_"
    taken.add(name)
    return name


def _assert_edge(expr: str, pin: str) -> str:
    """``posedge``/``negedge`` of ``pin`` that asserts ``expr`` (other inputs at 1), or ""."""
    vals = dict.fromkeys(variables(expr), 1)
    if pin not in vals:
        return ""
    lo = evaluate(expr, {**vals, pin: 0})
    hi = evaluate(expr, {**vals, pin: 1})
    return "" if lo == hi else ("posedge" if hi else "negedge")


def _cell_model(cell: Cell, with_specify: bool) -> str:
    ports = [n for n, p in cell.pins.items() if p.direction != "internal"]
    taken = {_vid(n) for n in ports}
    names = {n: _vid(n) for n in ports}
    seq = cell.ff or cell.latch
    if seq is not None:
        for st in (seq.state, seq.state_n):
            names[st] = _unique(_vid(st) if _vid(st) not in taken else f"{st}_state", taken)

    def v(expr: str) -> str:
        return to_verilog(expr, names)

    lines = [f"module {_vid(cell.name)} ({', '.join(names[n] for n in ports)});"]
    for n in ports:
        lines.append(f"  {cell.pins[n].direction} {names[n]};")
    if seq is not None:
        lines.extend(_state_logic(cell, seq, names, taken))
    for n in ports:
        pin = cell.pins[n]
        if pin.function is None or pin.direction == "input":
            continue
        value = v(pin.function)
        if pin.three_state is not None:
            value = f"({v(pin.three_state)}) ? 1'bz : {value}"
        lines.append(f"  assign {names[n]} = {value};")
    if with_specify:
        paths = _specify_paths(cell, names)
        if paths:
            lines.append("  specify")
            lines.extend(f"    {p} = (0, 0);" for p in paths)
            lines.append("  endspecify")
    lines.append("endmodule")
    return "\n".join(lines)


def _state_logic(cell: Cell, seq: "FlipFlop | Latch", names: dict[str, str], taken: set[str]
                 ) -> list[str]:
    """Declarations and the always block of an ff (edge) or latch (level) group."""
    is_ff = isinstance(seq, FlipFlop)
    data_expr = seq.next_state if is_ff else seq.data_in
    used = set(variables(data_expr))
    for pin in cell.pins.values():
        for expr in (pin.function, pin.three_state):
            if expr is not None:
                used.update(variables(expr))
    # (state name, its value on clear, on preset, clear_preset_var, inverted data?)
    states = [(seq.state, "1'b0", "1'b1", seq.clear_preset_var1, False),
              (seq.state_n, "1'b1", "1'b0", seq.clear_preset_var2, True)]
    states = [s for s in states if s[0] in used] or states[:1]  # unused ones stay out (lint)
    op = "<=" if is_ff else "="
    data = to_verilog(data_expr, names)

    def assign(values: list[str]) -> str:
        return " ".join(f"{names[st[0]]} {op} {val};" for st, val in zip(states, values))

    # Every state starts cleared, as the RTL's flip-flops start at their (zero) init and a
    # two-state simulator's at 0: an X never-reset flip-flop (a register file) would otherwise
    # spread through the cells' logic in a four-state simulator.
    lines = [f"  reg {', '.join(names[st[0]] for st in states)};",
             f"  initial begin {' '.join(f'{names[st[0]]} = {st[1]};' for st in states)} end"]
    branches = []                       # (condition or None, statements)
    controls = []
    for key, col in (("clear", 1), ("preset", 2)):
        expr = getattr(seq, key)
        if expr is not None:
            sig = _unique(f"pj_{key}", taken)
            lines.append(f"  wire {sig} = {to_verilog(expr, names)};")
            controls.append(sig)
            branches.append((sig, assign([st[col] for st in states])))
    if len(controls) == 2:
        both = [{"L": "1'b0", "H": "1'b1", "N": names[st[0]], "T": f"~{names[st[0]]}"}
                .get(st[3] or "X", "1'bx") for st in states]
        branches.insert(0, (f"{controls[0]} && {controls[1]}", assign(both)))
    load = assign([f"~{data}" if st[4] else data for st in states])
    if is_ff:
        clock = _unique("pj_clock", taken)
        lines.append(f"  wire {clock} = {to_verilog(seq.clocked_on, names)};")
        branches.append((None, load))
        events = " or ".join(f"posedge {sig}" for sig in [clock, *controls])
        lines.append(f"  always @({events}) begin")
    else:
        enable = _unique("pj_enable", taken)
        lines.append(f"  wire {enable} = {to_verilog(seq.enable, names)};")
        branches.append((enable, load))
        lines.append("  always_latch begin")
    if len(branches) == 1 and branches[0][0] is None:
        lines.append(f"    {branches[0][1]}")
    else:
        for k, (cond, stmts) in enumerate(branches):
            head = ("if" if k == 0 else "else if") + f" ({cond})" if cond else "else"
            lines.append(f"    {head} begin {stmts} end")
    lines.append("  end")
    return lines


def _specify_paths(cell: Cell, names: Mapping[str, str]) -> list[str]:
    seq = cell.ff or cell.latch
    paths: dict[str, None] = {}
    for out in cell.outputs:
        for arc in cell.pins[out].timing:
            rel = arc.related_pin
            if rel not in cell.pins or rel == out:
                continue
            src, dst = names[rel], names[out]
            kind = arc.timing_type
            if kind in _COMB_TYPES:
                paths.setdefault(f"({src} => {dst})")
            elif kind in ("rising_edge", "falling_edge"):
                edge = "posedge" if kind == "rising_edge" else "negedge"
                data = None
                if seq is not None:
                    data = seq.next_state if isinstance(seq, FlipFlop) else seq.data_in
                if data is None or any(n not in cell.pins for n in variables(data)):
                    data_v = src
                else:
                    data_v = to_verilog(data, names)
                paths.setdefault(f"({edge} {src} => ({dst} +: {data_v}))")
            elif kind in ("clear", "preset") and seq is not None:
                control = seq.clear if kind == "clear" else seq.preset
                edge = _assert_edge(control, rel) if control else ""
                if edge:
                    paths.setdefault(f"({edge} {src} => ({dst} : {src}))")
                else:
                    paths.setdefault(f"({src} => {dst})")
    return list(paths)


def cell_models(lib: Library, cells: Iterable[str] | None = None, *,
                with_specify: bool = False) -> str:
    """Verilog (Icarus and Verilator) with one module per cell, generated from the liberty.

    ``cells`` None means every cell; cells the generator cannot model (see
    :attr:`Cell.unmodelled`) are then left out with a comment, while naming one explicitly
    raises :class:`LibertyError`. Ports follow the liberty pin order.
    """
    explicit = cells is not None
    names = list(lib.cells) if cells is None else list(cells)
    out = ["`timescale 1ns/1ps",
           f"// Cell models generated from liberty {lib.path.name} ({lib.name}) "
           "by sim/power/liberty.py.", ""]
    for name in names:
        cell = lib.cell(name)
        if cell.unmodelled:
            if explicit:
                raise LibertyError(f"{lib.path}: cell {name} cannot be modelled: "
                                   f"{cell.unmodelled}")
            out.append(f"// {name}: not modelled ({cell.unmodelled})\n")
            continue
        out.append(_cell_model(cell, with_specify) + "\n")
    return "\n".join(out)
