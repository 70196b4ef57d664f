"""A minimal CSR bus and register map (amaranth-soc is not installable; this is the small part
picojoule needs, written here).

The bus is synchronous and never waits: a write (``w_stb``) takes effect at the clock edge, a
read (``r_stb``) returns ``r_data`` on the next cycle. Addresses count 32-bit words. A register
map is declared once in Python; the RTL decoder, the tests, the firmware header and the docs
all read offsets and fields from it.

RTL helpers: :meth:`RegisterMap.field_bits` (a field of a written word),
:func:`read_registers` (the registered read decoder of a block) and :class:`CsrBlock` (a
component whose registers sit on one CSR port).
"""

from dataclasses import dataclass, field

from amaranth import Module
from amaranth.lib import data, wiring
from amaranth.lib.wiring import In, Out
from amaranth.utils import ceil_log2

__all__ = ["CsrSignature", "Field", "Register", "RegisterMap", "read_registers", "CsrBlock"]


class CsrSignature(wiring.Signature):
    """Initiator's view of the CSR bus.

    Members
    -------
    addr : Out(addr_width)   word address
    w_stb : Out(1)           write strobe, one cycle per write
    w_data : Out(32)
    r_stb : Out(1)           read strobe; ``r_data`` is valid the cycle after
    r_data : In(32)
    """

    def __init__(self, addr_width: int):
        if not isinstance(addr_width, int) or not 1 <= addr_width <= 30:
            raise ValueError(f"addr_width must be an integer in 1..30, not {addr_width!r}")
        self.addr_width = addr_width
        super().__init__({
            "addr": Out(addr_width), "w_stb": Out(1), "w_data": Out(32),
            "r_stb": Out(1), "r_data": In(32),
        })


@dataclass(frozen=True)
class Field:
    name: str
    width: int
    doc: str = ""


@dataclass(frozen=True)
class Register:
    """One 32-bit register. ``access``: ``rw``, ``r`` (read-only), ``w`` (write-only command;
    reads return 0)."""

    name: str
    fields: tuple[Field, ...]
    access: str = "rw"
    doc: str = ""
    count: int = 1          # an array of identical registers (e.g. a row of data words)

    def __post_init__(self):
        if self.access not in ("rw", "r", "w"):
            raise ValueError(f"{self.name}: access must be rw, r or w, not {self.access!r}")
        if sum(f.width for f in self.fields) > 32:
            raise ValueError(f"{self.name}: fields exceed 32 bits")

    @property
    def layout(self) -> data.StructLayout:
        return data.StructLayout({f.name: f.width for f in self.fields})


@dataclass(frozen=True)
class RegisterMap:
    """Registers at consecutive word offsets, in declaration order."""

    name: str
    registers: tuple[Register, ...]
    offsets: dict = field(init=False, compare=False, repr=False)

    def __post_init__(self):
        offsets, at = {}, 0
        for reg in self.registers:
            offsets[reg.name] = at
            at += reg.count
        object.__setattr__(self, "offsets", offsets)

    @property
    def size(self) -> int:
        return sum(r.count for r in self.registers)

    @property
    def addr_width(self) -> int:
        return max(1, ceil_log2(self.size))

    def __getitem__(self, name: str) -> Register:
        for reg in self.registers:
            if reg.name == name:
                return reg
        raise KeyError(f"{self.name} has no register {name!r}")

    def offset(self, name: str, index: int = 0) -> int:
        reg = self[name]
        if not 0 <= index < reg.count:
            raise IndexError(f"{self.name}.{name}[{index}] out of range (count {reg.count})")
        return self.offsets[name] + index

    def pack(self, name: str, **values) -> int:
        """A register word from field values (for drivers and tests)."""
        return self[name].layout.const(values).as_bits()

    def unpack(self, name: str, word: int) -> dict:
        layout = self[name].layout
        return {f.name: (word >> layout[f.name].offset) & ((1 << f.width) - 1)
                for f in self[name].fields}

    def field_bits(self, name: str, field: str, word):
        """The bits of field ``field`` of register ``name`` in ``word`` (a Value: the RTL side of
        :meth:`unpack`)."""
        f = self[name].layout[field]
        return word[f.offset:f.offset + f.width]

    def markdown(self) -> str:
        """A register table for docs/."""
        lines = ["| offset | register | access | fields (lsb first) | description |",
                 "|---|---|---|---|---|"]
        for reg in self.registers:
            fields = ", ".join(f"{f.name}[{f.width}]" for f in reg.fields)
            count = f" x{reg.count}" if reg.count > 1 else ""
            lines.append(f"| 0x{4 * self.offsets[reg.name]:03x} | {reg.name}{count} | "
                         f"{reg.access} | {fields} | {reg.doc} |")
        return "\n".join(lines)


def read_registers(m: Module, csr, regs: RegisterMap, values: dict, *, addr=None) -> None:
    """The registered read decoder of a register block: on ``csr.r_stb``, ``csr.r_data`` takes
    (the clock after) the value of the register at ``addr`` (default ``csr.addr``), and 0 for
    any offset ``values`` does not name (write-only registers, unused offsets).

    ``values`` maps a register name to the Value it reads; for a register with ``count > 1``,
    to a sequence of ``count`` Values (one per word) or to a single Value read at index 0.
    """
    addr = csr.addr if addr is None else addr
    with m.If(csr.r_stb):
        m.d.sync += csr.r_data.eq(0)
        with m.Switch(addr):
            for name, value in values.items():
                words = value if isinstance(value, (list, tuple)) else (value,)
                if len(words) > regs[name].count:
                    raise ValueError(f"{regs.name}.{name} has {regs[name].count} words, "
                                     f"not {len(words)}")
                for index, word in enumerate(words):
                    with m.Case(regs.offset(name, index)):
                        m.d.sync += csr.r_data.eq(word)
            # Spelled out (the r_data.eq(0) above already covers it) so Yosys writes a complete
            # case statement: Verilator's lint flags an incomplete one (CASEINCOMPLETE).
            with m.Default():
                m.d.sync += csr.r_data.eq(0)


class CsrBlock(wiring.Component):
    """A register block on one CSR port (``csr``, the register map ``regs``); subclasses add
    their own members and decode ``self.regs``.

    Members
    -------
    csr : In(CsrSignature(regs.addr_width))
    """

    def __init__(self, regs: RegisterMap, members: dict):
        self.regs = regs
        super().__init__({"csr": wiring.In(CsrSignature(regs.addr_width)), **members})

    def at(self, name: str, index: int = 0):
        """1 while the bus addresses register ``name`` (word ``index``)."""
        return self.csr.addr == self.regs.offset(name, index)
