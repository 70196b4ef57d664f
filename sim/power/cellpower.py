"""Energy of a unit mapped to standard cells, from its liberty and the transitions of its nets.

The one place picojoule computes liberty-based energy. A window ``[t0, t1)`` of a run costs:

- **switching**: ``1/2 * C_load * V^2`` per transition of each net, ``C_load`` from
  :func:`net_loads` and ``V`` the liberty's ``nom_voltage`` (or ``vdd``). Every net counts: clock
  nets and nets driven by input ports too, since they are real wires the chip charges. OpenSTA
  (see :mod:`sim.power.sta`) charges only nets a cell drives, so the part on input-port-driven
  nets is reported on its own (``CellEnergy.port_switching_pj``) for a like-for-like comparison;
- **internal**: the liberty's ``internal_power`` energy per transition of a pin (pF x V^2 = pJ
  in the tables, see :mod:`sim.power.liberty`):

  - a cell OUTPUT transition is priced by the arc whose ``related_pin`` is the input of that
    instance whose most recent transition at or before the output's time is the latest: the
    input that caused it (the same time step in a zero-delay dump, earlier with SDF delays).
    The ``rise_power`` table for a rising output, ``fall_power`` for a falling one, looked up at
    that input net's slew for the edge it made (rise or fall, :func:`net_slews`) and at the
    output net's load. Inputs whose last transitions tie share the transition equally; when no
    input of the instance has changed yet (the window start, or an input that never moves) the
    arcs are averaged with equal weight, each at the mean of its input's rise and fall energies;
  - a cell INPUT transition on a pin with its own ``internal_power`` (no ``related_pin``: a
    flip-flop's CLK and D, DFFSR's S, TBUF's EN) is priced by the pin's rise or fall table at
    that net's slew;
  - each transition is charged ONCE with its own edge's table. This OpenSTA charges
    ``E_rise + E_fall`` per transition on buffer, inverter and clock arcs (twice the edge's
    share; see :mod:`sim.power.sta`), so its internal power is not ours at the same activity;
  - the internal energies are the liberty's at its characterised corner: ``vdd`` scales the
    switching term only;
- **leakage**: ``sum(cell_leakage_power) * (t1 - t0)``.

Inputs are :data:`Changes`: net bit -> ``(times_fs, values)``, ``times_fs`` int64 strictly
ascending, ``values`` the net's new value (0/1) at each, every entry a transition. Entries
outside ``[t0, t1)`` are not charged, but earlier ones still tell which input caused an output
transition. :func:`netlist_changes` reads them from a wave dump.

Slews are static, computed STA-style by :func:`net_slews`; loads by :func:`net_loads`, the same
load model the OpenSTA runs of :mod:`sim.power.sta` are given.
"""

import math
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from .activity import ActivityError, Waves
from .liberty import Library, Pin, TimingArc
from .netlist import CellNetlist

__all__ = ["WIRE_CAP_PF_PER_FANOUT", "OUTPUT_LOAD_PF", "Changes", "CellEnergy",
           "CellPowerModel", "fanouts", "net_loads", "net_slews", "cell_energy",
           "netlist_changes", "switching_at_activity"]

# Loads without a layout: both are estimates, not published figures.
# Wire: a local route of ~15-20 um per fanout (a few cell pitches in a small placed block) at
# ~0.15-0.2 fF/um for 0.18 um metal 1-2 gives ~3 fF per driven pin; 0.18 um wire-load models of
# small blocks have a slope of the same few fF per fanout.
WIRE_CAP_PF_PER_FANOUT = 0.003
# Output port: loaded like one typical X1 gate input of OSU 0.18 (INVX1 A 9 fF, NAND2X1 13 fF),
# i.e. the unit drives one gate of the next block; the port's wire is one more fanout above.
OUTPUT_LOAD_PF = 0.01

#: net bit -> (times in fs, int64 ascending; new value 0/1 at each)
Changes = Mapping[int, tuple[np.ndarray, np.ndarray]]

# Delay arcs (not checks): the arcs whose transition tables give an output's slew.
_DELAY_ARCS = frozenset({"combinational", "combinational_rise", "combinational_fall",
                         "rising_edge", "falling_edge", "clear", "preset",
                         "three_state_enable", "three_state_disable",
                         "three_state_enable_rise", "three_state_enable_fall",
                         "three_state_disable_rise", "three_state_disable_fall"})
_NEVER = np.iinfo(np.int64).min      # "no transition yet" in the cause search
_EMPTY = (np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.uint8))


def _check_loads(wire_cap_pf_per_fanout: float, output_load_pf: float):
    if not (wire_cap_pf_per_fanout >= 0 and output_load_pf >= 0):
        raise ValueError(f"loads must not be negative: wire {wire_cap_pf_per_fanout!r} pF per "
                         f"fanout, output {output_load_pf!r} pF")


def fanouts(netlist: CellNetlist) -> dict[int, int]:
    """Net bit -> fanout: the cell input pins on the net plus one per output port bit it
    drives (the count the wire estimate is multiplied by). Nets with no fanout are left out."""
    fanout: dict[int, int] = dict.fromkeys(netlist.outputs, 1)
    for inst in netlist.instances:
        for bit in inst.inputs.values():
            if isinstance(bit, int):
                fanout[bit] = fanout.get(bit, 0) + 1
    return fanout


def net_loads(lib: Library, netlist: CellNetlist, *,
              wire_cap_pf_per_fanout: float = WIRE_CAP_PF_PER_FANOUT,
              output_load_pf: float = OUTPUT_LOAD_PF) -> dict[int, float]:
    """Net bit -> load in pF, for every net of ``netlist``: the liberty ``capacitance`` of the
    cell input pins it drives, plus ``wire_cap_pf_per_fanout`` per fanout (:func:`fanouts`),
    plus ``output_load_pf`` per output port bit on the net."""
    _check_loads(wire_cap_pf_per_fanout, output_load_pf)
    loads = dict.fromkeys(netlist.nets, 0.0)
    for inst in netlist.instances:
        pins = lib.cell(inst.cell).pins
        for pin, bit in inst.inputs.items():
            if isinstance(bit, int):
                loads[bit] = loads.get(bit, 0.0) + pins[pin].capacitance_pf
    for bit, n in fanouts(netlist).items():
        loads[bit] = loads.get(bit, 0.0) + wire_cap_pf_per_fanout * n
    for bit in netlist.outputs:
        loads[bit] = loads.get(bit, 0.0) + output_load_pf
    return loads


def _input_edges(arc: TimingArc, out_rise: bool) -> tuple[bool, ...]:
    """The related pin's edges (True: rise) that can launch this output edge."""
    if arc.timing_type == "rising_edge":
        return (True,)
    if arc.timing_type == "falling_edge":
        return (False,)
    if arc.timing_sense == "positive_unate":
        return (out_rise,)
    if arc.timing_sense == "negative_unate":
        return (not out_rise,)
    return (True, False)


def _slew_arcs(lib: Library, inst) -> dict[str, list[tuple[TimingArc, int]]]:
    """Output pin -> its delay arcs from inputs tied to nets. A sequential cell's outputs use
    only the arcs from its clock pins (the launching edge; data never reaches Q directly, and
    async set/reset arcs are left out, as they rarely fire)."""
    cell = lib.cell(inst.cell)
    clocks = set(cell.clock_pins) if cell.is_sequential else None
    out = {}
    for pin in inst.outputs:
        arcs = [a for a in cell.pins[pin].timing if a.timing_type in _DELAY_ARCS]
        if clocks:
            arcs = [a for a in arcs if a.related_pin in clocks] or arcs
        out[pin] = [(a, inst.inputs[a.related_pin]) for a in arcs
                    if isinstance(inst.inputs.get(a.related_pin), int)]
    return out


def _propagate_slews(lib: Library, netlist: CellNetlist, loads: Mapping[int, float]
                     ) -> tuple[dict[int, tuple[float, float]], set[int]]:
    default = (lib.default_input_slew_ns, lib.default_input_slew_ns)
    slews: dict[int, tuple[float, float]] = {b: default for b in netlist.inputs}
    defaulted: set[int] = set()
    arcs_of: dict[int, list[tuple[TimingArc, int]]] = {}
    for inst in netlist.instances:
        for pin, arcs in _slew_arcs(lib, inst).items():
            arcs_of[inst.outputs[pin]] = arcs
    for b in {b for arcs in arcs_of.values() for _, b in arcs}:
        if b not in slews and b not in arcs_of:      # driven by nothing (none after map_unit)
            slews[b] = default
            defaulted.add(b)
    users: dict[int, list[int]] = {}
    pending: dict[int, int] = {}
    for net, arcs in arcs_of.items():
        deps = {b for _, b in arcs} - slews.keys()
        pending[net] = len(deps)
        for b in deps:
            users.setdefault(b, []).append(net)

    def resolve(net: int):
        load = loads.get(net, 0.0)
        worst = []
        for out_rise in (True, False):
            best = None
            for arc, b in arcs_of[net]:
                table = arc.rise_transition if out_rise else arc.fall_transition
                if table is None:
                    continue
                for in_rise in _input_edges(arc, out_rise):
                    s = table.lookup(slew_ns=slews[b][0 if in_rise else 1], load_pf=load)
                    best = s if best is None else max(best, s)
            if best is None:
                defaulted.add(net)
            worst.append(lib.default_input_slew_ns if best is None else best)
        slews[net] = (worst[0], worst[1])

    ready = deque(sorted(n for n, k in pending.items() if k == 0))
    left = sorted(n for n, k in pending.items() if k > 0)    # loop-breaking order
    while True:
        while ready:
            net = ready.popleft()
            if net in slews:
                continue
            resolve(net)
            for user in users.get(net, ()):
                pending[user] -= 1
                if pending[user] == 0:
                    ready.append(user)
        left = [n for n in left if n not in slews]
        if not left:
            break
        # Stalled on a combinational loop: walk back through unresolved inputs from the lowest
        # unresolved net until a net repeats; that net (on the loop) gets the default slew and
        # the rest follows from it.
        net, seen = left[0], set()
        while net not in seen:
            seen.add(net)
            net = min(b for _, b in arcs_of[net] if b not in slews)
        slews[net] = default
        defaulted.add(net)
        for user in users.get(net, ()):
            pending[user] -= 1
            if pending[user] == 0:
                ready.append(user)
    for net in netlist.nets:          # nets no cell and no port drives (none after map_unit)
        if net not in slews:
            slews[net] = default
            defaulted.add(net)
    return slews, defaulted


def net_slews(lib: Library, netlist: CellNetlist, *, loads: Mapping[int, float]
              ) -> dict[int, tuple[float, float]]:
    """Net bit -> (rise, fall) slew in ns, STA-style in topological order.

    A net driven by an input port has the liberty's ``default_input_slew_ns``. A cell output's
    slew for each edge is the WORST (largest), as in STA, over its delay arcs of the driver's
    ``rise_transition``/``fall_transition`` table at (the related input's slew, the net's load
    from ``loads``); the input slew is that of the input edge that launches the output edge
    (``timing_sense``: positive unate rise->rise, negative unate fall->rise, non-unate the
    worse of both; a rising_edge arc the clock's rise). A flip-flop's or latch's outputs use
    only the arcs from its clock pins. One net of each combinational loop (found by walking
    back from the lowest unresolved net) and outputs without a delay arc from a connected
    input get the default slew; the rest of a loop then follows from it.
    """
    return _propagate_slews(lib, netlist, loads)[0]


@dataclass(frozen=True)
class CellEnergy:
    """Energy of one window (pJ) and what it was made of.

    Members
    -------
    switching_pj : ``1/2 C V^2`` over every net transition, clock and port-driven nets included
    internal_pj : liberty internal energy, output arcs plus input-pin arcs
    leakage_pj : leakage over the window
    transitions : transitions of non-clock nets in the window
    clock_transitions : transitions of clock nets (``CellNetlist.clocks``) in the window
    port_switching_pj : the part of ``switching_pj`` on nets driven by input ports (the clock
        port included), which OpenSTA does not charge
    clock_switching_pj : the part of ``switching_pj`` on clock nets
    input_internal_pj : the part of ``internal_pj`` from input pins' own arcs (CLK, D, ...)
    internal_by_cell : cell type -> internal energy of its instances
    switching_by_driver : driving cell type (``"port"`` for input ports) -> switching energy
    averaged_transitions : output transitions with no input transition before them, priced by
        the average of their arcs
    default_slew_nets : nets given the default slew for want of a timing path (see
        :func:`net_slews`)
    t0_fs, t1_fs, vdd : the window and the supply the switching term used
    """

    switching_pj: float
    internal_pj: float
    leakage_pj: float
    transitions: int
    clock_transitions: int
    port_switching_pj: float
    clock_switching_pj: float
    input_internal_pj: float
    internal_by_cell: dict[str, float]
    switching_by_driver: dict[str, float]
    averaged_transitions: int
    default_slew_nets: int
    t0_fs: int
    t1_fs: int
    vdd: float

    @property
    def total_pj(self) -> float:
        return self.switching_pj + self.internal_pj + self.leakage_pj

    @property
    def dynamic_pj(self) -> float:
        return self.switching_pj + self.internal_pj

    @property
    def cell_switching_pj(self) -> float:
        """Switching on cell-driven nets: what OpenSTA's switching power charges."""
        return self.switching_pj - self.port_switching_pj


@dataclass(frozen=True)
class _Output:
    """One instance output pin with internal-power arcs: candidates (related pin, net or None,
    rise slew, fall slew) of the input that causes a transition."""

    cell: str
    pin: Pin
    net: int
    load_pf: float
    candidates: tuple[tuple[str, int | None, float, float], ...]


class CellPowerModel:
    """Loads, slews and arcs of ``netlist`` prepared once, to price many windows
    (:meth:`energy`); :func:`cell_energy` is the one-window shorthand. See the module docstring
    for the model."""

    def __init__(self, lib: Library, netlist: CellNetlist, *,
                 wire_cap_pf_per_fanout: float = WIRE_CAP_PF_PER_FANOUT,
                 output_load_pf: float = OUTPUT_LOAD_PF):
        self.lib = lib
        self.netlist = netlist
        self.loads = net_loads(lib, netlist, wire_cap_pf_per_fanout=wire_cap_pf_per_fanout,
                               output_load_pf=output_load_pf)
        self.slews, self.default_slew_nets = _propagate_slews(lib, netlist, self.loads)
        self.leakage_nw = sum(lib.cell(i.cell).leakage_nw or 0.0 for i in netlist.instances)
        self.driver = dict.fromkeys(netlist.inputs, "port")
        default = lib.default_input_slew_ns
        self._outputs: list[_Output] = []
        self._inputs: list[tuple[str, int, float, float]] = []   # (cell, net, E_rise, E_fall)
        for inst in netlist.instances:
            cell = lib.cell(inst.cell)
            for name, bit in inst.outputs.items():
                self.driver[bit] = inst.cell
                pin = cell.pins[name]
                related = list(dict.fromkeys(a.related_pin for a in pin.internal_power
                                             if a.related_pin is not None))
                if not related:
                    continue
                tied = [(r, inst.inputs.get(r)) for r in related]
                cands = [(r, b, *self.slews[b]) for r, b in tied if isinstance(b, int)]
                # All related inputs constant: such an output cannot toggle in a correct run;
                # should it, its arcs are averaged at the default slew.
                cands = cands or [(r, None, default, default) for r in related]
                self._outputs.append(_Output(inst.cell, pin, bit, self.loads[bit],
                                             tuple(cands)))
            for name, bit in inst.inputs.items():
                pin = cell.pins[name]
                if isinstance(bit, int) and pin.power_arcs(None):
                    rise, fall = self.slews[bit]
                    self._inputs.append((inst.cell, bit,
                                         pin.internal_energy_pj(None, rising=True, slew_ns=rise),
                                         pin.internal_energy_pj(None, rising=False,
                                                                slew_ns=fall)))
        self._arc_cache: dict[int, np.ndarray] = {}

    def _arc_energies(self, k: int, out: _Output) -> np.ndarray:
        """[candidate, output edge (0 rise, 1 fall), input edge (0 rise, 1 fall)] in pJ."""
        got = self._arc_cache.get(k)
        if got is None:
            got = np.array([[[out.pin.internal_energy_pj(rel, rising=o == 0,
                                                         slew_ns=(rise, fall)[i],
                                                         load_pf=out.load_pf)
                              for i in (0, 1)] for o in (0, 1)]
                            for rel, _, rise, fall in out.candidates])
            self._arc_cache[k] = got
        return got

    def energy(self, changes: Changes, *, t0_fs: int, t1_fs: int,
               vdd: float | None = None) -> CellEnergy:
        """Energy of the transitions in ``changes`` inside ``[t0_fs, t1_fs)``."""
        if not t1_fs > t0_fs:
            raise ValueError(f"empty or reversed window: t0 {t0_fs} fs, t1 {t1_fs} fs")
        v = self.lib.nom_voltage if vdd is None else float(vdd)
        if not v > 0:
            raise ValueError(f"vdd must be positive, not {vdd!r}")
        nets, clocks, inputs = self.netlist.nets, self.netlist.clocks, self.netlist.inputs
        unknown = [b for b in changes if b not in nets]
        if unknown:
            raise ValueError(f"{self.netlist.top}: {len(unknown)} changed bits are no net of "
                             f"the netlist, e.g. {unknown[0]!r}")
        data: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        window: dict[int, tuple[int, int, int]] = {}      # bit -> (lo, hi, rises in window)
        half_v2 = 0.5 * v * v
        switching = port = clock = 0.0
        transitions = clock_transitions = 0
        by_driver: dict[str, float] = {}
        for bit, (times, values) in changes.items():
            times = np.asarray(times, dtype=np.int64)
            values = np.asarray(values)
            if times.shape != values.shape or times.ndim != 1:
                raise ValueError(f"net {nets[bit].name}[{nets[bit].index}]: times and values "
                                 f"differ in shape ({times.shape}, {values.shape})")
            if len(times) > 1 and not (np.all(times[1:] > times[:-1])
                                       and np.all(values[1:] != values[:-1])):
                raise ValueError(f"net {nets[bit].name}[{nets[bit].index}]: times must rise "
                                 "strictly and each entry must be a transition")
            if len(values) and not np.all((values == 0) | (values == 1)):
                raise ValueError(f"net {nets[bit].name}[{nets[bit].index}]: values are not 0/1")
            data[bit] = (times, values)
            lo, hi = np.searchsorted(times, (t0_fs, t1_fs), side="left")
            n = int(hi - lo)
            if not n:
                continue
            window[bit] = (int(lo), int(hi), int(np.count_nonzero(values[lo:hi])))
            e = half_v2 * self.loads[bit] * n
            switching += e
            driver = self.driver.get(bit, "port")
            by_driver[driver] = by_driver.get(driver, 0.0) + e
            if bit in inputs:
                port += e
            if bit in clocks:
                clock += e
                clock_transitions += n
            else:
                transitions += n

        internal_by_cell: dict[str, float] = {}
        input_internal = 0.0
        for cell, bit, e_rise, e_fall in self._inputs:
            if bit in window:
                lo, hi, rises = window[bit]
                e = rises * e_rise + (hi - lo - rises) * e_fall
                input_internal += e
                internal_by_cell[cell] = internal_by_cell.get(cell, 0.0) + e

        output_internal = 0.0
        averaged = 0
        for k, out in enumerate(self._outputs):
            if out.net not in window:
                continue
            lo, hi, _ = window[out.net]
            times, values = data[out.net]
            t_out, out_fall = times[lo:hi], (values[lo:hi] == 0).astype(np.intp)
            n = hi - lo
            last = np.full((len(out.candidates), n), _NEVER, dtype=np.int64)
            in_fall = np.zeros((len(out.candidates), n), dtype=np.intp)
            for c, (_, b, _, _) in enumerate(out.candidates):
                t_in, v_in = data.get(b, _EMPTY) if b is not None else _EMPTY
                if len(t_in):
                    idx = np.searchsorted(t_in, t_out, side="right") - 1
                    seen = idx >= 0
                    last[c, seen] = t_in[idx[seen]]
                    in_fall[c, seen] = v_in[idx[seen]] == 0
            latest = last.max(axis=0)
            cause = last == latest                   # ties share; no cause yet: all share
            weight = cause / cause.sum(axis=0)
            table = self._arc_energies(k, out)       # [candidate, out edge, in edge]
            rows = np.arange(len(out.candidates))[:, None]
            e = table[rows, out_fall[None, :], in_fall]
            never = latest == _NEVER
            if never.any():
                mean = table.mean(axis=2)            # input edge unknown
                e[:, never] = mean[rows, out_fall[None, never]]
                averaged += int(never.sum())
            total = float((weight * e).sum())
            output_internal += total
            internal_by_cell[out.cell] = internal_by_cell.get(out.cell, 0.0) + total

        return CellEnergy(
            switching_pj=switching, internal_pj=input_internal + output_internal,
            leakage_pj=self.leakage_nw * (t1_fs - t0_fs) * 1e-12,      # nW x fs = 1e-12 pJ
            transitions=transitions, clock_transitions=clock_transitions,
            port_switching_pj=port, clock_switching_pj=clock,
            input_internal_pj=input_internal, internal_by_cell=dict(sorted(
                internal_by_cell.items())),
            switching_by_driver=dict(sorted(by_driver.items())), averaged_transitions=averaged,
            default_slew_nets=len(self.default_slew_nets), t0_fs=int(t0_fs), t1_fs=int(t1_fs),
            vdd=v)


def cell_energy(lib: Library, netlist: CellNetlist, changes: Changes, *, t0_fs: int,
                t1_fs: int, wire_cap_pf_per_fanout: float = WIRE_CAP_PF_PER_FANOUT,
                output_load_pf: float = OUTPUT_LOAD_PF, vdd: float | None = None
                ) -> CellEnergy:
    """Energy of ``netlist`` over ``[t0_fs, t1_fs)`` given its nets' ``changes`` (model in the
    module docstring). Prepares a :class:`CellPowerModel`; keep one to price many windows."""
    model = CellPowerModel(lib, netlist, wire_cap_pf_per_fanout=wire_cap_pf_per_fanout,
                           output_load_pf=output_load_pf)
    return model.energy(changes, t0_fs=t0_fs, t1_fs=t1_fs, vdd=vdd)


def netlist_changes(waves: Waves, netlist: CellNetlist, t0_fs: int, t1_fs: int
                    ) -> dict[int, tuple[np.ndarray, np.ndarray]]:
    """Every net of ``netlist`` read from ``waves``: its transitions in ``[t0_fs, t1_fs)``
    (times in fs) as :data:`Changes`, by :meth:`Waves.bit_changes` (same-time changes
    collapsed, x/z read as 0). A net that does not change has empty arrays; a net missing from
    the dump raises :class:`ActivityError` naming it, so no energy is silently dropped."""
    if not t1_fs > t0_fs:
        raise ActivityError(f"empty or reversed window: t0 {t0_fs} fs, t1 {t1_fs} fs")
    missing = sorted({f"{n.name}[{n.index}]" for n in netlist.nets.values()
                      if n.name not in waves.vars or n.index >= waves.width(n.name)})
    if missing:
        raise ActivityError(f"{waves.path}: {len(missing)} nets of {netlist.top} are not in the "
                            f"dump under {waves.toplevel!r}: {', '.join(missing[:5])}"
                            f"{' ...' if len(missing) > 5 else ''}")
    fs_per_tick = waves.fs_per_tick
    if fs_per_tick != int(fs_per_tick) or fs_per_tick < 1:
        raise ActivityError(f"{waves.path}: a dump tick of {fs_per_tick} fs is not a whole "
                            "number of fs")
    scale = int(fs_per_tick)
    t0, t1 = waves.ticks(t0_fs), waves.ticks(t1_fs)
    out = {}
    for bit, net in netlist.nets.items():
        times, values = waves.bit_changes(net.name, net.index, t0, t1)
        out[bit] = (times * scale, values)
    return out


def switching_at_activity(lib: Library, netlist: CellNetlist, *, activity: float,
                          wire_cap_pf_per_fanout: float = WIRE_CAP_PF_PER_FANOUT,
                          output_load_pf: float = OUTPUT_LOAD_PF, vdd: float | None = None,
                          clock_transitions: float = 2.0) -> dict:
    """Switching energy per clock period (pJ) when every non-clock net makes ``activity``
    transitions per period and every clock net ``clock_transitions`` (a clock rises and falls
    once a period): ``1/2 C V^2`` per transition with :func:`net_loads`, as :meth:`energy`
    charges it. Returns ``cell_driven_pj`` (what OpenSTA's switching power charges),
    ``port_driven_pj`` (nets of input ports, the clock port included), ``clock_pj`` (clock nets,
    in either), ``vdd`` and ``activity``."""
    if not (activity >= 0 and clock_transitions >= 0):
        raise ValueError(f"activity must not be negative, not {activity!r} "
                         f"(clock {clock_transitions!r})")
    if not math.isfinite(activity):
        raise ValueError(f"activity must be finite, not {activity!r}")
    v = lib.nom_voltage if vdd is None else float(vdd)
    loads = net_loads(lib, netlist, wire_cap_pf_per_fanout=wire_cap_pf_per_fanout,
                      output_load_pf=output_load_pf)
    pj = {"cell": 0.0, "port": 0.0, "clock": 0.0}
    for bit in netlist.nets:
        is_clock = bit in netlist.clocks
        e = 0.5 * loads[bit] * v * v * (clock_transitions if is_clock else activity)
        pj["port" if bit in netlist.inputs else "cell"] += e
        if is_clock:
            pj["clock"] += e
    return {"cell_driven_pj": pj["cell"], "port_driven_pj": pj["port"],
            "clock_pj": pj["clock"], "vdd": v, "activity": activity}
