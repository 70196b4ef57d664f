"""A short formal check of the core's RVFI port, without the fetched riscv-formal suite.

The core goes into the project's own riscv-formal wrapper (``sim.riscv.formal.wrapper_sv``:
free bus answers, data and interrupts under the Wishbone assumptions), and a checker of our
own states, for every instruction retired within the first ``DEPTH`` clocks, what RV32I says
it does (the unprivileged spec's definitions written as SystemVerilog, next to each other
below): add, sub, addi, lui, jal, beq/bne, lw and sw, and that x0 reads and writes as zero.
SymbiYosys (yowasp) proves them with yices by bounded model checking on both core variants.

The properties must be able to fail: the same check with the add definition changed to
``rs1 - rs2`` must find a counterexample (so an add retires within the depth and its result
is compared), and a cover run shows that each listed instruction class retires.
"""

import pytest

from hdl.riscv.core import CoreParams
from sim.riscv.formal import core_verilog, run_sby, solver_missing, wrapper_sv

DEPTH = 10

# The instruction definitions (RISC-V Unprivileged ISA 20191213, ch. 2), for a retire with
# rvfi_valid && !rvfi_trap.
PROPS = r"""
module pj_rvfi_props (input clock, input reset);
  wire        valid, trap, halt, intr;
  wire [63:0] order;
  wire [31:0] insn, rs1, rs2, rd_wdata, pc, pc_w, mem_addr, mem_rdata, mem_wdata;
  wire [4:0]  rs1_addr, rs2_addr, rd_addr;
  wire [3:0]  mem_rmask, mem_wmask;
  wire [1:0]  mode, ixl;
  rvfi_wrapper w (
    .clock(clock), .reset(reset), .rvfi_valid(valid), .rvfi_order(order), .rvfi_insn(insn),
    .rvfi_trap(trap), .rvfi_halt(halt), .rvfi_intr(intr), .rvfi_mode(mode), .rvfi_ixl(ixl),
    .rvfi_rs1_addr(rs1_addr), .rvfi_rs2_addr(rs2_addr), .rvfi_rs1_rdata(rs1),
    .rvfi_rs2_rdata(rs2), .rvfi_rd_addr(rd_addr), .rvfi_rd_wdata(rd_wdata),
    .rvfi_pc_rdata(pc), .rvfi_pc_wdata(pc_w), .rvfi_mem_addr(mem_addr),
    .rvfi_mem_rmask(mem_rmask), .rvfi_mem_wmask(mem_wmask), .rvfi_mem_rdata(mem_rdata),
    .rvfi_mem_wdata(mem_wdata));

  reg first = 1;
  always @(posedge clock) first <= 0;
  always @* assume(reset == first);

  wire [6:0] opcode = insn[6:0];
  wire [2:0] f3 = insn[14:12];
  wire [6:0] f7 = insn[31:25];
  wire [4:0] rd = insn[11:7];
  wire [31:0] imm_i = {{20{insn[31]}}, insn[31:20]};
  wire [31:0] imm_s = {{20{insn[31]}}, insn[31:25], insn[11:7]};
  wire [31:0] imm_b = {{19{insn[31]}}, insn[31], insn[7], insn[30:25], insn[11:8], 1'b0};
  wire [31:0] imm_j = {{11{insn[31]}}, insn[31], insn[19:12], insn[20], insn[30:21], 1'b0};
  wire [31:0] s1 = insn[19:15] ? rs1 : 0;
  wire [31:0] s2 = insn[24:20] ? rs2 : 0;

  wire is_add  = opcode == 7'b0110011 && f3 == 0 && f7 == 7'b0000000;
  wire is_sub  = opcode == 7'b0110011 && f3 == 0 && f7 == 7'b0100000;
  wire is_addi = opcode == 7'b0010011 && f3 == 0;
  wire is_lui  = opcode == 7'b0110111;
  wire is_jal  = opcode == 7'b1101111;
  wire is_beq  = opcode == 7'b1100011 && f3 == 0;
  wire is_bne  = opcode == 7'b1100011 && f3 == 1;
  wire is_lw   = opcode == 7'b0000011 && f3 == 2;
  wire is_sw   = opcode == 7'b0100011 && f3 == 2;

`ifdef WRONG_ADD
  wire [31:0] add_result = s1 - s2;
`else
  wire [31:0] add_result = s1 + s2;
`endif

  wire done = !reset && valid && !trap;
  always @* if (done) begin
    if (rd_addr == 0) assert(rd_wdata == 0);
    if (is_add || is_sub || is_addi || is_lw || is_sw) begin
      if (rs1_addr == 0) assert(rs1 == 0);
    end
    if (is_add || is_sub || is_sw) begin
      if (rs2_addr == 0) assert(rs2 == 0);
    end
    if (is_add) begin
      assert(rd_addr == rd && rd_wdata == (rd ? add_result : 0));
      assert(pc_w == pc + 4 && mem_wmask == 0);
    end
    if (is_sub) assert(rd_addr == rd && rd_wdata == (rd ? s1 - s2 : 0) && pc_w == pc + 4);
    if (is_addi) assert(rd_addr == rd && rd_wdata == (rd ? s1 + imm_i : 0) && pc_w == pc + 4);
    if (is_lui) assert(rd_addr == rd && rd_wdata == (rd ? {insn[31:12], 12'b0} : 0));
    if (is_jal) assert(rd_addr == rd && rd_wdata == (rd ? pc + 4 : 0) && pc_w == pc + imm_j);
    if (is_beq) assert(pc_w == (s1 == s2 ? pc + imm_b : pc + 4) && rd_addr == 0);
    if (is_bne) assert(pc_w == (s1 != s2 ? pc + imm_b : pc + 4) && rd_addr == 0);
    if (is_lw) begin
      assert(mem_addr == s1 + imm_i && mem_rmask == 4'b1111 && mem_wmask == 0);
      assert(rd_addr == rd && rd_wdata == (rd ? mem_rdata : 0) && pc_w == pc + 4);
    end
    if (is_sw) begin
      assert(mem_addr == s1 + imm_s && mem_wmask == 4'b1111 && mem_wdata == s2);
      assert(rd_addr == 0 && pc_w == pc + 4);
    end
  end
  // (a trap never retires these: their only traps are misaligned addresses)
  always @* if (!reset && valid && trap) assert(!(is_add || is_sub || is_addi || is_lui));

  always @* if (done) begin
    cover(is_add && rd != 0 && s1 != 0 && s2 != 0);
    cover(is_sub && rd != 0);
    cover(is_addi && rd != 0);
    cover(is_lui && rd != 0);
    cover(is_jal);
    cover(is_beq && pc_w != pc + 4);
    cover(is_bne && pc_w != pc + 4);
    cover(is_lw && rd != 0);
    cover(is_sw);
  end
endmodule
"""

N_COVERS = PROPS.count("cover(")

needs_solver = pytest.mark.skipif(solver_missing() is not None, reason=str(solver_missing()))


def _sby(tmp_path, core: CoreParams, mode: str, defines=()):
    (tmp_path / "pj_core.v").write_text(core_verilog(core))
    (tmp_path / "wrapper.sv").write_text(wrapper_sv(core))
    (tmp_path / "props.sv").write_text(PROPS)
    defs = "".join(f"verilog_defines -D{d}\n" for d in defines)
    sby = tmp_path / f"props_{mode}.sby"
    sby.write_text(f"""[options]
mode {mode}
depth {DEPTH}

[engines]
smtbmc yices

[script]
{defs}read -formal pj_core.v wrapper.sv props.sv
prep -flatten -nordff -top pj_rvfi_props

[files]
{tmp_path / 'pj_core.v'}
{tmp_path / 'wrapper.sv'}
{tmp_path / 'props.sv'}
""")
    return sby


VARIANTS = [CoreParams(), CoreParams(variant="compact")]
IDS = [c.variant for c in VARIANTS]


@needs_solver
@pytest.mark.parametrize("core", VARIANTS, ids=IDS)
def test_rvfi_properties_hold(tmp_path, core):
    out = run_sby(_sby(tmp_path, core, "bmc"), timeout=300)
    assert out.status == "PASS", f"{out.status}: {out.reason}"


@needs_solver
@pytest.mark.parametrize("core", VARIANTS, ids=IDS)
def test_wrong_add_is_caught(tmp_path, core):
    out = run_sby(_sby(tmp_path, core, "bmc", defines=["WRONG_ADD"]), timeout=300)
    assert out.status == "FAIL", f"{out.status}: {out.reason}"


@needs_solver
def test_every_instruction_class_retires(tmp_path):
    sby = _sby(tmp_path, CoreParams(), "cover")
    out = run_sby(sby, timeout=300)
    log = (sby.with_suffix("") / "logfile.txt").read_text()
    reached = log.count("Reached cover statement")
    assert out.status == "PASS" and reached == N_COVERS, \
        f"{out.status} {out.reason}: {reached} of {N_COVERS} covers reached"


@pytest.mark.parametrize("args, says", [
    (["formal", "{tmp}"], "not a riscv-formal checkout"),
    (["formal", "{tmp}/nowhere"], "no such directory"),
    (["formal", "{tmp}", "--depth", "0"], "--depth must be"),
])
def test_bad_input_is_one_line(args, says, tmp_path, capsys):
    from sim.cli import main

    assert main([a.format(tmp=tmp_path) for a in args]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and says in err[0], err
