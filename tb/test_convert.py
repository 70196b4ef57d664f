"""The Verilog conversion cache (``sim.flow.toolchain.convert(..., key=...)``): a keyed text is
converted once and reused while the key, hdl/'s sources and the Amaranth version hold; an
unkeyed conversion is never cached. (That hdl/ depends on nothing else: tb/test_layout.py.)"""

from amaranth import Module
from amaranth.back import verilog
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from sim.flow import toolchain


class Adder(wiring.Component):
    def __init__(self, width: int):
        self.width = width
        super().__init__({"a": In(width), "b": In(width), "y": Out(width + 1)})

    def elaborate(self, platform):
        m = Module()
        m.d.comb += self.y.eq(self.a + self.b)
        return m


def test_keyed_text_is_converted_once_per_key_and_sources(monkeypatch, tmp_path):
    calls = []
    real = verilog.convert

    def counting(component, **kw):
        calls.append(component.width)
        return real(component, **kw)

    monkeypatch.setattr(toolchain, "BUILD", tmp_path)
    monkeypatch.setattr(verilog, "convert", counting)
    first = toolchain.convert(Adder(4), "add", key=("Adder", 4))
    assert calls == [4] and list((tmp_path / "convert").glob("add-*.v"))
    assert toolchain.convert(Adder(4), "add", key=("Adder", 4)) == first
    assert calls == [4]
    assert first == real(Adder(4), name="add", emit_src=False)
    # another key, no key at all, other hdl/ sources: converted again
    assert toolchain.convert(Adder(4), "add", key=("Adder", 4, "other")) == first
    toolchain.convert(Adder(5), "add", key=("Adder", 5))
    assert calls == [4, 4, 5]
    toolchain.convert(Adder(4), "add")
    toolchain.convert(Adder(4), "add")
    assert calls == [4, 4, 5, 4, 4]
    monkeypatch.setattr(toolchain, "_hdl_sources", lambda: "edited")
    assert toolchain.convert(Adder(4), "add", key=("Adder", 4)) == first
    assert calls == [4, 4, 5, 4, 4, 4]


def test_key_covers_every_hdl_file(monkeypatch, tmp_path):
    """Editing any file under hdl/ (here a copy of it) changes every key."""
    import shutil

    shutil.copytree(toolchain.ROOT / "hdl", tmp_path / "hdl")
    monkeypatch.setattr(toolchain, "ROOT", tmp_path)
    toolchain._hdl_sources.cache_clear()
    try:
        before = toolchain.hdl_key("Adder", 4)
        assert toolchain.hdl_key("Adder", 4) == before != toolchain.hdl_key("Adder", 5)
        last = sorted((tmp_path / "hdl").rglob("*.py"))[-1]
        last.write_text(last.read_text() + "\n# edited\n")
        toolchain._hdl_sources.cache_clear()
        assert toolchain.hdl_key("Adder", 4) != before
    finally:
        toolchain._hdl_sources.cache_clear()
