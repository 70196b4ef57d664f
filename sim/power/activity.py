"""Switching activity from a run's wave dump over a window marked by the testbench.

The cocotb side marks a window with :func:`sim.rtl.activity.measure`; this side opens the
run's ``dump.fst`` (Verilator or Icarus; pywellen also reads VCD) and counts, for every signal
under the top level, the transitions of each bit at times in ``[t0, t1)``.

Counting is zero-delay: several value changes of one signal at the same time step collapse to
the last one, so glitches are not counted (neither simulator models gate delays here). A bit
going to or from x/z is compared as 0 and reported in ``Activity.unknown``.

Everything that could silently read as "zero energy" raises :class:`ActivityError` instead: a
missing record or dump, no operations, an empty or reversed window, a window that starts after
the dump ends, a window with no change at all, a required signal that never toggles.
"""

import bisect
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

__all__ = ["ActivityError", "Window", "Activity", "Waves", "read_window", "capture"]


class ActivityError(ValueError):
    """The window or the dump cannot give a trustworthy toggle count."""


@dataclass(frozen=True)
class Window:
    """``[t0_fs, t1_fs)`` in femtoseconds, ``ops`` operations, plus what the testbench added."""

    name: str
    t0_fs: int
    t1_fs: int
    ops: int
    extra: dict = field(default_factory=dict)

    def __post_init__(self):
        if not isinstance(self.ops, int) or self.ops <= 0:
            raise ActivityError(f"window {self.name!r}: ops must be a positive integer, "
                                f"not {self.ops!r}")
        if self.t1_fs <= self.t0_fs:
            raise ActivityError(f"window {self.name!r} is empty or reversed: "
                                f"t0 {self.t0_fs} fs, t1 {self.t1_fs} fs")


def read_window(run, name: str = "window") -> Window:
    """The window ``name`` a :class:`sim.rtl.SimRun` recorded."""
    try:
        rec = dict(run.data(name))
    except FileNotFoundError as err:
        raise ActivityError(f"no window {name!r}: {err}") from None
    return Window(rec.pop("name", name), int(rec.pop("t0_fs")), int(rec.pop("t1_fs")),
                  rec.pop("ops"), rec)


def _to_int(value) -> tuple[int, bool]:
    if isinstance(value, int):
        return value, False
    s = str(value).lower()
    return int("".join("0" if c in "xzuw-" else c for c in s) or "0", 2), True


class Waves:
    """One wave dump, its signals named relative to ``toplevel`` (``"count"``, ``"unit.a"``)."""

    def __init__(self, path: Path, toplevel: str):
        import pywellen

        path = Path(path)
        if not path.exists():
            raise ActivityError(f"no wave dump {path}: run with waves=True")
        self.path = path
        self.toplevel = toplevel
        self.wave = pywellen.Waveform(str(path))
        ts = self.wave.timescale
        self.fs_per_tick = ts.factor * 10 ** (ts.unit.to_exponent() + 15)
        self.vars = {}          # relative name -> pywellen Var (first one of each name)
        for var in self.wave.all_vars():
            parts = var.full_name.split(".")
            if toplevel not in parts or var.is_real or var.is_string:
                continue
            # Icarus keeps the backslash of escaped identifiers (``\i__payload.a``).
            rel = ".".join(parts[parts.index(toplevel) + 1:]).replace("\\", "").strip()
            if rel:
                self.vars.setdefault(rel, var)
        if not self.vars:
            raise ActivityError(f"{path} holds no signal under top level {toplevel!r}")
        self._signals = {}
        self._ints = {}         # name -> (times, values as integers) for bit_changes

    def width(self, name: str) -> int:
        return self._var(name).bitwidth

    def _var(self, name: str):
        try:
            return self.vars[name]
        except KeyError:
            raise ActivityError(f"{self.path}: no signal {name!r} under {self.toplevel!r}"
                                ) from None

    def _changes(self, name: str) -> tuple[list[int], list]:
        if name not in self._signals:
            sig = self._var(name).signal
            times, values = [], []
            for i in range(len(sig)):
                t, v = sig[i]
                if times and times[-1] == t:    # zero-delay: the last value of a time step
                    values[-1] = v
                else:
                    times.append(t)
                    values.append(v)
            self._signals[name] = (times, values)
        return self._signals[name]

    def span_ticks(self) -> tuple[int, int]:
        """First and last time any signal under the top level changes (dump ticks)."""
        first, last = None, None
        for name in self.vars:
            times, _ = self._changes(name)
            if times:
                first = times[0] if first is None else min(first, times[0])
                last = times[-1] if last is None else max(last, times[-1])
        return first or 0, last or 0

    def ticks(self, t_fs: int) -> int:
        return -(-t_fs // self.fs_per_tick)     # ceil: a window edge between ticks rounds up

    def bit_toggles(self, name: str, t0: int, t1: int) -> tuple[np.ndarray, int]:
        """Per-bit transitions (LSB first) of ``name`` in ticks ``[t0, t1)``, and x/z count."""
        times, values = self._changes(name)
        width = self.width(name)
        lo = bisect.bisect_left(times, t0)
        hi = bisect.bisect_left(times, t1)
        unknown = 0
        if lo > 0:
            prev, unk = _to_int(values[lo - 1])
            unknown += unk
        elif lo < hi:
            prev, unk = _to_int(values[lo])   # the first value ever is not a transition
            unknown += unk
            lo += 1
        flips = []
        for v in values[lo:hi]:
            x, unk = _to_int(v)
            unknown += unk
            if x != prev:
                flips.append(x ^ prev)
            prev = x
        counts = np.zeros(width, dtype=np.int64)
        if flips:
            if width <= 63:
                arr = np.array(flips, dtype=np.uint64)
                for i in range(width):
                    counts[i] = int(((arr >> np.uint64(i)) & np.uint64(1)).sum())
            else:
                for i in range(width):
                    counts[i] = sum((f >> i) & 1 for f in flips)
        return counts, unknown

    def bit_changes(self, name: str, index: int, t0: int, t1: int
                    ) -> tuple[np.ndarray, np.ndarray]:
        """Transitions of bit ``index`` of ``name`` in ticks ``[t0, t1)``: their times (int64,
        ascending) and the bit's new value at each (uint8, 0/1).

        The same transitions :meth:`bit_toggles` counts: same-time changes collapsed to the last
        value, the first value ever is not a transition, x/z read as 0.
        """
        width = self.width(name)
        if not 0 <= index < width:
            raise ActivityError(f"{self.path}: no bit {index} in {name!r} ({width} bits)")
        if name not in self._ints:
            times, values = self._changes(name)
            ints = [_to_int(v)[0] for v in values]
            arr = (np.array(ints, dtype=np.uint64) if width <= 64
                   else np.array(ints, dtype=object))
            self._ints[name] = (np.array(times, dtype=np.int64), arr)
        times, ints = self._ints[name]
        lo = int(np.searchsorted(times, t0, side="left"))
        hi = int(np.searchsorted(times, t1, side="left"))
        start = max(lo - 1, 0)        # the value before the window, or the first value ever
        if hi - start < 2:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.uint8)
        shifted = ints[start:hi] >> (np.uint64(index) if width <= 64 else index)
        bits = (shifted & (np.uint64(1) if width <= 64 else 1)).astype(np.uint8)
        flips = np.flatnonzero(bits[1:] != bits[:-1]) + 1
        return times[start:hi][flips], bits[flips]

    def value_before(self, name: str, t: int) -> int:
        """The value of ``name`` just before tick ``t`` (what a flip-flop samples at ``t``)."""
        times, values = self._changes(name)
        i = bisect.bisect_left(times, t)
        return _to_int(values[i - 1])[0] if i else 0

    def rising_edges(self, clock: str, t0: int, t1: int) -> list[int]:
        times, values = self._changes(clock)
        lo, hi = bisect.bisect_left(times, t0), bisect.bisect_left(times, t1)
        prev = _to_int(values[lo - 1])[0] if lo else 0
        edges = []
        for t, v in zip(times[lo:hi], values[lo:hi], strict=True):
            x = _to_int(v)[0] & 1
            if x and not prev:
                edges.append(t)
            prev = x
        return edges


@dataclass
class Activity:
    """Toggle counts of every signal in one window.

    Members
    -------
    window : the :class:`Window`
    bits : signal name -> per-bit transition counts, LSB first
    unknown : value changes involving x/z inside the window
    waves : the open :class:`Waves` (for edge-sampled counts: transfers, memory accesses)
    """

    window: Window
    bits: dict[str, np.ndarray]
    unknown: int
    waves: Waves

    def toggles(self, name: str) -> int:
        try:
            return int(self.bits[name].sum())
        except KeyError:
            raise ActivityError(f"no signal {name!r} in the window's dump") from None

    def total(self, names=None, *, exclude=()) -> int:
        """Transitions summed over ``names`` (default all signals), minus ``exclude``."""
        names = self.bits if names is None else names
        return int(sum(self.bits[n].sum() for n in names if n not in exclude))

    def per_op(self, toggles: float) -> float:
        return toggles / self.window.ops

    def ticks(self) -> tuple[int, int]:
        w = self.waves
        return w.ticks(self.window.t0_fs), w.ticks(self.window.t1_fs)

    def transfers(self, clock: str, *conditions: str) -> int:
        """Rising edges of ``clock`` in the window where every condition signal was 1."""
        t0, t1 = self.ticks()
        return sum(all(self.waves.value_before(c, t) & 1 for c in conditions)
                   for t in self.waves.rising_edges(clock, t0, t1))


def capture(run_or_waves, toplevel: str, *, window: str | Window = "window",
            require=(), names=None) -> Activity:
    """Toggle counts of all signals (or ``names``) under ``toplevel`` in a window.

    ``run_or_waves`` is a :class:`sim.rtl.SimRun` (its ``dump.fst`` and its window record
    ``window``) or a :class:`Waves` with an explicit :class:`Window`. Every signal in
    ``require`` must toggle at least once. Raises :class:`ActivityError` (see module doc).
    """
    if isinstance(run_or_waves, Waves):
        waves = run_or_waves
        if not isinstance(window, Window):
            raise ActivityError("pass a Window when giving Waves directly")
    else:
        if run_or_waves.waves is None:
            raise ActivityError(f"{toplevel}: the run dumped no waves (run with waves=True)")
        if not isinstance(window, Window):
            window = read_window(run_or_waves, window)
        waves = Waves(run_or_waves.waves, toplevel)
    t0, t1 = waves.ticks(window.t0_fs), waves.ticks(window.t1_fs)
    first, last = waves.span_ticks()
    if t0 > last:
        raise ActivityError(
            f"window {window.name!r} [{window.t0_fs}, {window.t1_fs}) fs starts after the dump "
            f"{waves.path} ends ({last * waves.fs_per_tick} fs): wrong window or stale dump")
    if t1 <= first:
        raise ActivityError(f"window {window.name!r} ends before the dump {waves.path} begins")
    bits, unknown = {}, 0
    for name in (waves.vars if names is None else names):
        bits[name], unk = waves.bit_toggles(name, t0, t1)
        unknown += unk
    act = Activity(window, bits, unknown, waves)
    if act.total() == 0:
        raise ActivityError(f"window {window.name!r}: no signal under {toplevel!r} changes in "
                            f"[{window.t0_fs}, {window.t1_fs}) fs of {waves.path}")
    quiet = [n for n in require if act.toggles(n) == 0]
    if quiet:
        raise ActivityError(f"window {window.name!r}: required signals never toggle: "
                            f"{', '.join(quiet)}")
    return act
