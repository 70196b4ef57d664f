"""The liberty reader and the cell models it generates, checked against hand-written libraries.

- parsing: values, indices and attributes come out exactly as written, comments and ``\\``
  continuations included; units convert to ns / pF / nW / V / pJ;
- tables: grid points give the entry, between points the bilinear formula, outside the linear
  extrapolation; the same physical table written in the other variable order (and in ps / fF)
  looks up the same; ``when`` variants of internal power average;
- functions: every combinational output of the test library against a Python truth table;
- models: compile in Icarus and Verilator, match :func:`evaluate` on every input combination,
  flip-flops capture on the rising edge, clear is asynchronous, latches are transparent;
- specify: an SDF file really delays outputs in Icarus;
- errors: missing file, syntax error (with its line), a library without power data.

``PICOJOULE_TEST_OSU_LIB`` (path to OSU's osu018_stdcells.lib) adds a smoke test on a real
library.
"""

import itertools
import os
import re
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest

from sim.flow.toolchain import ToolError, icarus_missing, setup_verilator
from sim.power.liberty import (
    DEFAULT_INPUT_SLEW_NS,
    BinOp,
    LibertyError,
    Not,
    Var,
    cell_models,
    evaluate,
    parse_function,
    parse_liberty,
    read_liberty,
    to_verilog,
    variables,
)

# ------------------------------------------------------------------------------- test data
# The inverter's tables, as written in HD_LIB (rows: input_net_transition, columns: load).
INV_SLEW = (0.01, 0.5)
INV_LOAD = (0.0005, 0.01, 0.05)
INV_CELL_RISE = ((0.021, 0.062, 0.231), (0.095, 0.150, 0.330))
INV_CELL_FALL = ((0.017, 0.045, 0.160), (0.110, 0.141, 0.262))
INV_RISE_POWER = ((0.0021, 0.0026, 0.0041), (0.0063, 0.0066, 0.0079))
INV_FALL_POWER = ((0.0011, 0.0013, 0.0020), (0.0050, 0.0052, 0.0061))
CLK_SLEW = (0.01, 0.2, 1.5)
CLK_RISE_POWER = (0.0031, 0.0042, 0.0090)

HD_LIB = r"""
/* A test library in the style of sky130_fd_sc_hd, written by hand for picojoule's tests. */
library ("tlib_hd") {
    define ("def_sim_opt", "library", "string");
    delay_model : "table_lookup";
    time_unit : "1ns";
    voltage_unit : "1V";
    current_unit : "1mA";
    leakage_power_unit : "1nW";
    pulling_resistance_unit : "1kohm";
    capacitive_load_unit (1.0000000000, "pf");
    nom_voltage : 1.8000000000;
    operating_conditions ("tt_025C_1v80") { voltage : 1.8; process : 1.0; temperature : 25; }
    default_operating_conditions : "tt_025C_1v80";
    lu_table_template ("del_1_2x3") {
        variable_1 : "input_net_transition";
        variable_2 : "total_output_net_capacitance";
        index_1 ("1000.0, 1001.0");
        index_2 ("1000.0, 1001.0, 1002.0");
    }
    power_lut_template ("power_2x3") {
        variable_1 : "input_transition_time";
        variable_2 : "total_output_net_capacitance";
        index_1 ("1000.0, 1001.0");
        index_2 ("1000.0, 1001.0, 1002.0");
    }
    power_lut_template ("power_in_3") {
        variable_1 : "input_transition_time";
        index_1 ("1000.0, 1001.0, 1002.0");
    }
    cell ("tl_inv_1") {
        area : 3.7536;
        cell_leakage_power : 0.0017;
        pin ("A") {
            direction : "input";
            capacitance : 0.0023;
            rise_capacitance : 0.0024;
            fall_capacitance : 0.0022;
        }
        pin ("Y") {
            direction : "output";
            function : "(!A)";
            max_capacitance : 0.07;
            internal_power () {
                related_pin : "A";
                rise_power ("power_2x3") {
                    index_1 ("0.01, 0.5");
                    index_2 ("0.0005, 0.01, 0.05");
                    values ("0.0021, 0.0026, 0.0041", \
                            "0.0063, 0.0066, 0.0079");
                }
                fall_power ("power_2x3") {
                    index_1 ("0.01, 0.5");
                    index_2 ("0.0005, 0.01, 0.05");
                    values ("0.0011, 0.0013, 0.0020", \
                            "0.0050, 0.0052, 0.0061");
                }
            }
            timing () {
                related_pin : "A";
                timing_sense : "negative_unate";
                timing_type : "combinational";
                cell_rise ("del_1_2x3") {
                    index_1 ("0.01, 0.5");
                    index_2 ("0.0005, 0.01, 0.05");
                    values ("0.021, 0.062, 0.231", \
                            "0.095, 0.150, 0.330");
                }
                cell_fall ("del_1_2x3") {
                    index_1 ("0.01, 0.5");
                    index_2 ("0.0005, 0.01, 0.05");
                    values ("0.017, 0.045, 0.160", "0.110, 0.141, 0.262");
                }
            }
        }
    }
    cell ("tl_nand2_1") {  // only when-conditioned leakage, when-conditioned internal power
        area : 3.75;
        leakage_power () { value : 0.001; when : "!A&!B"; }
        leakage_power () { value : 0.002; when : "!A&B"; }
        leakage_power () { value : 0.003; when : "A&!B"; }
        leakage_power () { value : 0.010; when : "A&B"; }
        pin ("A") { direction : "input"; capacitance : 0.0024; }
        pin ("B") { direction : "input"; capacitance : 0.0023; }
        pin ("Y") {
            direction : "output";
            function : "(!A) | (!B)";
            internal_power () {
                related_pin : "A";
                when : "B";
                rise_power ("scalar") { values ("0.004"); }
                fall_power ("scalar") { values ("0.002"); }
            }
            internal_power () {
                related_pin : "A";
                when : "!B";
                rise_power ("scalar") { values ("0.006"); }
                fall_power ("scalar") { values ("0.001"); }
            }
            internal_power () {
                related_pin : "B";
                rise_power ("scalar") { values ("0.003"); }
            }
            internal_power () {
                related_pin : "B";
                when : "A";
                rise_power ("scalar") { values ("0.009"); }
            }
        }
    }
    cell ("tl_a21oi_1") {
        area : 5.0;
        cell_leakage_power : 0.002;
        pin ("A1") { direction : "input"; capacitance : 0.002; }
        pin ("A2") { direction : "input"; capacitance : 0.002; }
        pin ("B1") { direction : "input"; capacitance : 0.002; }
        pin ("Y") { direction : "output"; function : "(!A1&!B1) | (!A2&!B1)"; }
    }
    cell ("tl_xor2_1") {
        area : 8.0;
        cell_leakage_power : 0.003;
        pin ("A") { direction : "input"; capacitance : 0.004; }
        pin ("B") { direction : "input"; capacitance : 0.004; }
        pin ("X") { direction : "output"; function : "(A&!B) | (!A&B)"; }
    }
    cell ("tl_mux2_1") {
        area : 11.0;
        cell_leakage_power : 0.004;
        pin ("A0") { direction : "input"; capacitance : 0.002; }
        pin ("A1") { direction : "input"; capacitance : 0.002; }
        pin ("S") { direction : "input"; capacitance : 0.003; }
        pin ("X") { direction : "output"; function : "(A0&!S) | (A1&S)"; }
    }
    cell ("tl_ao_jux") {  /* OSU-style juxtaposition and postfix ' */
        area : 6.0;
        cell_leakage_power : 0.002;
        pin ("A") { direction : "input"; capacitance : 0.002; }
        pin ("B") { direction : "input"; capacitance : 0.002; }
        pin ("C") { direction : "input"; capacitance : 0.002; }
        pin ("Y") { direction : "output"; function : "A B+C'"; }
        pin ("YN") { direction : "output"; function : "(A^B)'"; }
    }
    cell ("tl_prec") {  /* precedence: ! before ^ before & before | */
        area : 6.0;
        cell_leakage_power : 0.002;
        pin ("A") { direction : "input"; capacitance : 0.002; }
        pin ("B") { direction : "input"; capacitance : 0.002; }
        pin ("C") { direction : "input"; capacitance : 0.002; }
        pin ("X") { direction : "output"; function : "A^B&C"; }
        pin ("Y") { direction : "output"; function : "!A^B|C*A"; }
        pin ("Z") { direction : "output"; function : "A*B + B*C + A*C"; }
    }
    cell ("tl_conb_1") {
        area : 3.75;
        cell_leakage_power : 0.001;
        pin ("HI") { direction : "output"; function : "1"; }
        pin ("LO") { direction : "output"; function : "0"; }
    }
    cell ("tl_buf_1") {
        area : 3.75;
        cell_leakage_power : 0.002;
        pin ("A") { direction : "input"; capacitance : 0.0017; }
        pin ("X") {
            direction : "output";
            function : "A";
            timing () {
                related_pin : "A";
                timing_sense : "positive_unate";
                cell_rise ("scalar") { values ("0.1"); }
                cell_fall ("scalar") { values ("0.1"); }
            }
        }
    }
    cell ("tl_ebufn_1") {
        area : 10.0;
        cell_leakage_power : 0.003;
        pin ("A") { direction : "input"; capacitance : 0.002; }
        pin ("TE_B") { direction : "input"; capacitance : 0.004; }
        pin ("Z") {
            direction : "output";
            function : "A";
            three_state : "TE_B";
            timing () {
                related_pin : "A";
                timing_sense : "positive_unate";
                cell_rise ("scalar") { values ("0.12"); }
            }
            timing () {
                related_pin : "TE_B";
                timing_type : "three_state_enable";
                cell_rise ("scalar") { values ("0.15"); }
            }
        }
    }
    cell ("tl_dfxtp_1") {
        area : 20.0;
        cell_leakage_power : 0.008;
        ff ("IQ", "IQN") {
            clocked_on : "CLK";
            next_state : "D";
        }
        pin ("CLK") {
            direction : "input";
            clock : "true";
            capacitance : 0.0018;
            internal_power () {
                rise_power ("power_in_3") {
                    index_1 ("0.01, 0.2, 1.5");
                    values ("0.0031, 0.0042, 0.0090");
                }
                fall_power ("power_in_3") {
                    index_1 ("0.01, 0.2, 1.5");
                    values ("0.0030, 0.0040, 0.0085");
                }
            }
        }
        pin ("D") { direction : "input"; capacitance : 0.0017; }
        pin ("Q") {
            direction : "output";
            function : "IQ";
            timing () {
                related_pin : "CLK";
                timing_type : "rising_edge";
                timing_sense : "non_unate";
                cell_rise ("scalar") { values ("0.35"); }
                cell_fall ("scalar") { values ("0.33"); }
            }
        }
    }
    cell ("tl_dfrbp_1") {
        area : 25.0;
        cell_leakage_power : 0.009;
        ff ("IQ", "IQN") {
            clocked_on : "CLK";
            next_state : "D";
            clear : "!RESET_B";
            clear_preset_var1 : "L";
            clear_preset_var2 : "H";
        }
        pin ("CLK") { direction : "input"; clock : "true"; capacitance : 0.0018; }
        pin ("D") { direction : "input"; capacitance : 0.0017; }
        pin ("Q") {
            direction : "output";
            function : "IQ";
            timing () {
                related_pin : "CLK";
                timing_type : "rising_edge";
                cell_rise ("scalar") { values ("0.35"); }
            }
            timing () {
                related_pin : "RESET_B";
                timing_type : "clear";
                timing_sense : "positive_unate";
                cell_fall ("scalar") { values ("0.30"); }
            }
        }
        pin ("Q_N") { direction : "output"; function : "IQN"; }
        pin ("RESET_B") { direction : "input"; capacitance : 0.0016; }
    }
    cell ("tl_dlxtp_1") {
        area : 15.0;
        cell_leakage_power : 0.007;
        latch ("IQ", "IQN") {
            enable : "GATE";
            data_in : "D";
        }
        pin ("D") { direction : "input"; capacitance : 0.0017; }
        pin ("GATE") { direction : "input"; clock : "true"; capacitance : 0.0017; }
        pin ("Q") {
            direction : "output";
            function : "IQ";
            timing () {
                related_pin : "D";
                cell_rise ("scalar") { values ("0.25"); }
            }
            timing () {
                related_pin : "GATE";
                timing_type : "rising_edge";
                cell_rise ("scalar") { values ("0.28"); }
            }
        }
    }
}
"""

# The same inverter in OSU's variable order (load first) and in ps / fF / pW; the default input
# transition is 50 ps.
PS_FF_LIB = r"""
library(tlib_ps) {
  delay_model : table_lookup;
  time_unit : "1ps";
  voltage_unit : "1V";
  leakage_power_unit : "1pW";
  capacitive_load_unit (1,ff);
  nom_voltage : 1.8;
  default_input_transition : 50;
  lu_table_template(delay_3x2) {
    variable_1 : total_output_net_capacitance;
    variable_2 : input_net_transition;
    index_1 ("1000.0, 1001.0, 1002.0");
    index_2 ("1000.0, 1001.0");
  }
  power_lut_template(energy_3x2) {
    variable_1 : total_output_net_capacitance;
    variable_2 : input_transition_time;
    index_1 ("1000.0, 1001.0, 1002.0");
    index_2 ("1000.0, 1001.0");
  }
  cell (tl_inv_1) {
    area : 3.7536;
    cell_leakage_power : 1.7;
    pin(A) { direction : input; capacitance : 2.3; }
    pin(Y) {
      direction : output;
      function : "(!A)";
      timing() {
        related_pin : "A";
        timing_sense : negative_unate;
        cell_rise(delay_3x2) {
          index_1 ("0.5, 10, 50");
          index_2 ("10, 500");
          values ("21, 95", "62, 150", "231, 330");
        }
      }
      internal_power() {
        related_pin : "A";
        rise_power(energy_3x2) {
          index_1 ("0.5, 10, 50");
          index_2 ("10, 500");
          values ("2.1, 6.3", "2.6, 6.6", "4.1, 7.9");
        }
      }
    }
  }
}
"""

NO_POWER_LIB = """
library (nopower) {
  time_unit : "1ns";
  capacitive_load_unit (1, pf);
  voltage_unit : "1V";
  nom_voltage : 1.2;
  cell (inv) {
    area : 1;
    pin (A) { direction : input; capacitance : 0.001; }
    pin (Y) { direction : output; function : "!A"; }
  }
}
"""

# Truth tables written independently of the parser: cell -> output -> f(**inputs).
TRUTH = {
    "tl_inv_1": {"Y": lambda A: 1 - A},
    "tl_nand2_1": {"Y": lambda A, B: 1 - (A & B)},
    "tl_a21oi_1": {"Y": lambda A1, A2, B1: 1 - ((A1 & A2) | B1)},
    "tl_xor2_1": {"X": lambda A, B: A ^ B},
    "tl_mux2_1": {"X": lambda A0, A1, S: A1 if S else A0},
    "tl_ao_jux": {"Y": lambda A, B, C: (A & B) | (1 - C), "YN": lambda A, B, C: 1 - (A ^ B)},
    "tl_prec": {"X": lambda A, B, C: (A ^ B) & C,
                "Y": lambda A, B, C: ((1 - A) ^ B) | (C & A),
                "Z": lambda A, B, C: int(A + B + C >= 2)},
    "tl_conb_1": {"HI": lambda: 1, "LO": lambda: 0},
    "tl_buf_1": {"X": lambda A: A},
    "tl_ebufn_1": {"Z": lambda A, TE_B: "z" if TE_B else A},
}


@pytest.fixture(scope="module")
def hd(tmp_path_factory):
    path = tmp_path_factory.mktemp("lib") / "tlib_hd.lib"
    path.write_text(HD_LIB)
    return read_liberty(path)


@pytest.fixture(scope="module")
def ps(tmp_path_factory):
    path = tmp_path_factory.mktemp("lib") / "tlib_ps.lib"
    path.write_text(PS_FF_LIB)
    return read_liberty(path)


def _bilinear(xs, ys, values, x, y):
    """Bilinear interpolation / linear extrapolation from the two nearest grid lines."""
    i = min(max(np.searchsorted(xs, x, side="right") - 1, 0), len(xs) - 2)
    j = min(max(np.searchsorted(ys, y, side="right") - 1, 0), len(ys) - 2)
    tx = (x - xs[i]) / (xs[i + 1] - xs[i])
    ty = (y - ys[j]) / (ys[j + 1] - ys[j])
    return ((1 - tx) * (1 - ty) * values[i][j] + tx * (1 - ty) * values[i + 1][j]
            + (1 - tx) * ty * values[i][j + 1] + tx * ty * values[i + 1][j + 1])


# ---------------------------------------------------------------------------------- parsing
def test_parse_values_exactly(hd):
    assert hd.name == "tlib_hd"
    assert hd.nom_voltage == 1.8
    inv = hd.cell("tl_inv_1")
    assert inv.area == 3.7536 and inv.leakage_nw == 0.0017
    a, y = inv.pins["A"], inv.pins["Y"]
    assert (a.capacitance_pf, a.rise_capacitance_pf, a.fall_capacitance_pf) == \
        (0.0023, 0.0024, 0.0022)
    assert y.direction == "output" and y.function == "(!A)" and y.max_capacitance_pf == 0.07
    (arc,) = y.timing
    assert (arc.related_pin, arc.timing_type, arc.timing_sense) == \
        ("A", "combinational", "negative_unate")
    table = arc.cell_rise
    assert table.variables == ("input_net_transition", "total_output_net_capacitance")
    # The table's own indices replace the template's 1000, 1001, ... placeholders.
    assert table.indices[0].tolist() == list(INV_SLEW)
    assert table.indices[1].tolist() == list(INV_LOAD)
    assert table.values.tolist() == [list(r) for r in INV_CELL_RISE]
    assert arc.cell_fall.values.tolist() == [list(r) for r in INV_CELL_FALL]
    assert arc.rise_transition is None
    (power,) = y.internal_power
    assert power.related_pin == "A" and power.when is None
    assert power.rise.values.tolist() == [list(r) for r in INV_RISE_POWER]
    assert power.fall.values.tolist() == [list(r) for r in INV_FALL_POWER]
    assert hd.templates["del_1_2x3"].indices[0] == (1000.0, 1001.0)
    assert list(hd.cells) == list(TRUTH)[:2] + ["tl_a21oi_1", "tl_xor2_1", "tl_mux2_1",
                                                "tl_ao_jux", "tl_prec", "tl_conb_1",
                                                "tl_buf_1", "tl_ebufn_1", "tl_dfxtp_1",
                                                "tl_dfrbp_1", "tl_dlxtp_1"]


def test_sequential_groups(hd):
    dff = hd.cell("tl_dfxtp_1")
    assert dff.is_sequential and dff.latch is None
    assert (dff.ff.state, dff.ff.state_n, dff.ff.clocked_on, dff.ff.next_state) == \
        ("IQ", "IQN", "CLK", "D")
    assert dff.ff.clear is None and dff.clock_pins == ("CLK",)
    assert dff.inputs == ("CLK", "D") and dff.outputs == ("Q",)
    rst = hd.cell("tl_dfrbp_1").ff
    assert (rst.clear, rst.preset, rst.clear_preset_var1, rst.clear_preset_var2) == \
        ("!RESET_B", None, "L", "H")
    lat = hd.cell("tl_dlxtp_1")
    assert lat.ff is None and (lat.latch.enable, lat.latch.data_in) == ("GATE", "D")
    assert lat.clock_pins == ("GATE",)
    assert not hd.cell("tl_inv_1").is_sequential and hd.cell("tl_inv_1").clock_pins == ()
    assert hd.cell("tl_ebufn_1").pins["Z"].three_state == "TE_B"


def test_units(hd, ps, tmp_path):
    assert (hd.time_unit_ns, hd.cap_unit_pf, hd.voltage_unit_v, hd.leakage_unit_nw,
            hd.energy_unit_pj) == (1.0, 1.0, 1.0, 1.0, 1.0)
    assert hd.default_input_slew_ns == DEFAULT_INPUT_SLEW_NS
    assert ps.time_unit_ns == pytest.approx(1e-3) and ps.cap_unit_pf == pytest.approx(1e-3)
    assert ps.leakage_unit_nw == pytest.approx(1e-3)
    assert ps.energy_unit_pj == pytest.approx(1e-3)           # fF x V^2 = fJ
    assert ps.default_input_slew_ns == pytest.approx(0.050)   # 50 ps
    inv = ps.cell("tl_inv_1")
    assert inv.leakage_nw == pytest.approx(0.0017)           # 1.7 pW
    assert inv.pins["A"].capacitance_pf == pytest.approx(0.0023)   # 2.3 fF
    table = inv.pins["Y"].timing[0].cell_rise
    assert table.indices[0] == pytest.approx(INV_LOAD)        # fF -> pF
    assert table.indices[1] == pytest.approx(INV_SLEW)        # ps -> ns
    assert table.values.T == pytest.approx(np.array(INV_CELL_RISE))
    # Energy is capacitive_load_unit x voltage_unit^2: 1 fF x (1 mV)^2 = 1e-9 pJ.
    mv = parse_liberty(
        'library (mv) { voltage_unit : "1mV"; capacitive_load_unit (1, ff); nom_voltage : 1800;'
        ' cell (c) { pin (A) { direction : input; internal_power () {'
        ' rise_power (scalar) { values ("500000"); } } } } }')
    assert mv.nom_voltage == pytest.approx(1.8)
    energy = mv.cell("c").pins["A"].internal_energy_pj(None, rising=True, slew_ns=0.1)
    assert energy == pytest.approx(500000 * 1e-3 * 1e-3 ** 2)


def test_leakage_and_when_averaging(hd):
    nand = hd.cell("tl_nand2_1")
    assert nand.leakage_nw == pytest.approx((0.001 + 0.002 + 0.003 + 0.010) / 4)
    assert [w for w, _ in nand.leakage_states] == ["!A&!B", "!A&B", "A&!B", "A&B"]
    y = nand.pins["Y"]
    assert len(y.power_arcs("A")) == 2
    assert y.power_arc("A", slew_ns=0.1, load_pf=0.01) == \
        pytest.approx(((0.004 + 0.006) / 2, (0.002 + 0.001) / 2))
    # An arc without `when` takes precedence over conditional ones.
    assert y.internal_energy_pj("B", rising=True, slew_ns=0.1, load_pf=0.01) == 0.003
    assert y.internal_energy_pj("B", rising=False, slew_ns=0.1, load_pf=0.01) == 0.0
    assert y.internal_energy_pj("C", rising=True, slew_ns=0.1, load_pf=0.01) == 0.0


# ----------------------------------------------------------------------------------- tables
def test_lookup_grid_points(hd):
    y = hd.cell("tl_inv_1").pins["Y"]
    table = y.timing[0].cell_rise
    for (i, s), (j, c) in itertools.product(enumerate(INV_SLEW), enumerate(INV_LOAD)):
        assert table.lookup(slew_ns=s, load_pf=c) == INV_CELL_RISE[i][j]
        assert y.internal_energy_pj("A", rising=True, slew_ns=s, load_pf=c) == \
            INV_RISE_POWER[i][j]
        assert y.internal_energy_pj("A", rising=False, slew_ns=s, load_pf=c) == \
            INV_FALL_POWER[i][j]


@pytest.mark.parametrize("slew, load", [
    (0.01 + 0.3 * (0.5 - 0.01), 0.0005 + 0.6 * (0.01 - 0.0005)),   # inside, first cell
    (0.2, 0.03),                                                    # inside, second column
    (0.5, 0.05 + 0.5 * (0.05 - 0.01)),                              # beyond the last load
    (0.01 - 0.005, 0.0005),                                         # below the first slew
    (0.9, 0.0001),                                                  # outside on both axes
])
def test_lookup_interpolates_and_extrapolates(hd, slew, load):
    table = hd.cell("tl_inv_1").pins["Y"].timing[0].cell_rise
    expected = _bilinear(INV_SLEW, INV_LOAD, INV_CELL_RISE, slew, load)
    assert table.lookup(slew_ns=slew, load_pf=load) == pytest.approx(expected, rel=1e-12)


def test_lookup_one_dimension_and_scalar(hd):
    clk = hd.cell("tl_dfxtp_1").pins["CLK"]
    for s, e in zip(CLK_SLEW, CLK_RISE_POWER):
        assert clk.internal_energy_pj(None, rising=True, slew_ns=s) == e
    s = 0.2 + 0.25 * (1.5 - 0.2)
    expected = CLK_RISE_POWER[1] + 0.25 * (CLK_RISE_POWER[2] - CLK_RISE_POWER[1])
    assert clk.internal_energy_pj(None, rising=True, slew_ns=s) == pytest.approx(expected)
    s = 2.0                                   # linear extrapolation from the last two points
    expected = CLK_RISE_POWER[2] + (s - 1.5) / (1.5 - 0.2) * (CLK_RISE_POWER[2] - CLK_RISE_POWER[1])
    assert clk.internal_energy_pj(None, rising=True, slew_ns=s) == pytest.approx(expected)
    q = hd.cell("tl_dfxtp_1").pins["Q"].timing[0]
    assert q.cell_rise.is_scalar and q.cell_rise.lookup(slew_ns=3.0, load_pf=1.0) == 0.35
    with pytest.raises(ValueError, match="load_pf"):
        hd.cell("tl_inv_1").pins["Y"].timing[0].cell_rise.lookup(slew_ns=0.1)


def test_variable_order_and_units_do_not_matter(hd, ps):
    """OSU order (load first) in ps / fF looks up like sky130 order in ns / pF."""
    hd_y, ps_y = hd.cell("tl_inv_1").pins["Y"], ps.cell("tl_inv_1").pins["Y"]
    assert ps_y.timing[0].cell_rise.variables[0] == "total_output_net_capacitance"
    points = [(s, c) for s in (0.005, 0.01, 0.2, 0.5, 0.8) for c in (0.0, 0.0005, 0.02, 0.09)]
    for s, c in points:
        assert ps_y.timing[0].cell_rise.lookup(slew_ns=s, load_pf=c) == \
            pytest.approx(hd_y.timing[0].cell_rise.lookup(slew_ns=s, load_pf=c), rel=1e-9)
        assert ps_y.internal_energy_pj("A", rising=True, slew_ns=s, load_pf=c) == \
            pytest.approx(hd_y.internal_energy_pj("A", rising=True, slew_ns=s, load_pf=c),
                          rel=1e-9)


# -------------------------------------------------------------------------------- functions
def _combinational(lib):
    return [c for c in lib.cells.values() if not c.is_sequential]


def test_functions_match_truth_tables(hd):
    cells = _combinational(hd)
    assert sorted(c.name for c in cells) == sorted(TRUTH)
    for cell in cells:
        assert sorted(cell.outputs) == sorted(TRUTH[cell.name]), cell.name
        for bits in itertools.product((0, 1), repeat=len(cell.inputs)):
            values = dict(zip(cell.inputs, bits))
            for out, oracle in TRUTH[cell.name].items():
                want = oracle(**values)
                pin = cell.pins[out]
                if pin.three_state is not None and evaluate(pin.three_state, values):
                    assert want == "z", (cell.name, out, values)
                    continue
                assert evaluate(pin.function, values) == want, (cell.name, out, values)


def test_function_syntax():
    assert parse_function("A B") == BinOp("&", Var("A"), Var("B"))
    assert parse_function("A'") == Not(Var("A")) == parse_function("!A")
    assert parse_function("A+B*C") == BinOp("|", Var("A"), BinOp("&", Var("B"), Var("C")))
    assert parse_function("A^B&C") == BinOp("&", BinOp("^", Var("A"), Var("B")), Var("C"))
    assert parse_function("S\\&R") == BinOp("&", Var("S"), Var("R"))    # sdf_cond escape
    assert variables("(A1 & B) | !A1 ^ C'") == ("A1", "B", "C")
    assert to_verilog("!(A B) + C'") == "(~(A & B) | ~C)"
    assert to_verilog("A", {"A": "pin_a"}) == "pin_a"
    for bad in ("A &", "(A", "A)", "A + + B", "", "A # B"):
        with pytest.raises(LibertyError, match="bad function"):
            parse_function(bad)


# ----------------------------------------------------------------------------------- models
def _write(directory: Path, files: dict[str, str]) -> list[str]:
    for name, text in files.items():
        (directory / name).write_text(text)
    return [str(directory / name) for name in files if name.endswith(".v")]


def _icarus(directory: Path, files: dict[str, str], *, specify: bool = False) -> str:
    reason = icarus_missing()
    if reason:
        pytest.skip(reason)
    sources = _write(directory, files)
    flags = ["-g2012"] + (["-gspecify"] if specify else [])
    build = subprocess.run(["iverilog", *flags, "-o", str(directory / "sim.vvp"), *sources],
                           capture_output=True, text=True, cwd=directory)
    assert build.returncode == 0, build.stderr
    assert build.stderr == "", build.stderr
    run = subprocess.run(["vvp", "-n", str(directory / "sim.vvp")], capture_output=True,
                         text=True, cwd=directory, timeout=60)
    assert run.returncode == 0, run.stderr
    return run.stdout + run.stderr


@pytest.mark.parametrize("with_specify", [False, True])
def test_models_lint_in_verilator(hd, tmp_path, with_specify):
    try:
        setup_verilator()
    except ToolError as err:
        pytest.skip(str(err))
    (source,) = _write(tmp_path, {"cells.v": cell_models(hd, with_specify=with_specify)})
    proc = subprocess.run(["verilator", "--lint-only", "-Wall", "-Wno-fatal", source],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    # Only warnings about the file as a whole (and ignored specify blocks) are allowed.
    allowed = {"MULTITOP", "DECLFILENAME", "SPECIFYIGN"}
    found = set(re.findall(r"%(?:Warning|Error)-?([A-Z]*)", proc.stderr))
    assert found <= allowed, proc.stderr


def test_models_match_functions(hd, tmp_path):
    """Every combinational model, on every input combination, equals evaluate()."""
    cells = _combinational(hd)
    tb = ["`timescale 1ns/1ps", "module tb;", "  integer k;"]
    for n, cell in enumerate(cells):
        width = max(len(cell.inputs), 1)
        tb.append(f"  reg [{width - 1}:0] in{n};")
        conns = [f".{p}(in{n}[{i}])" for i, p in enumerate(cell.inputs)]
        for out in cell.outputs:
            tb.append(f"  wire o{n}_{out};")
            conns.append(f".{out}(o{n}_{out})")
        tb.append(f"  {cell.name} u{n} ({', '.join(conns)});")
    tb.append("  initial begin")
    for n, cell in enumerate(cells):
        shows = " ".join("%b" for _ in cell.outputs)
        args = ", ".join(f"o{n}_{o}" for o in cell.outputs)
        tb.append(f"    for (k = 0; k < {2 ** len(cell.inputs)}; k = k + 1) begin")
        tb.append(f'      in{n} = k; #1 $display("{cell.name} %0d {shows}", k, {args});')
        tb.append("    end")
    tb += ["  end", "endmodule", ""]
    out = _icarus(tmp_path, {"cells.v": cell_models(hd), "tb.v": "\n".join(tb)})
    seen = 0
    for cell in cells:
        for k in range(2 ** len(cell.inputs)):
            values = {p: (k >> i) & 1 for i, p in enumerate(cell.inputs)}
            want = []
            for o in cell.outputs:
                pin = cell.pins[o]
                if pin.three_state is not None and evaluate(pin.three_state, values):
                    want.append("z")
                else:
                    want.append(str(evaluate(pin.function, values)))
            assert f"{cell.name} {k} {' '.join(want)}" in out.splitlines(), (cell.name, values)
            seen += 1
    assert seen == sum(2 ** len(c.inputs) for c in cells) > 40


SEQ_TB = """
`timescale 1ns/1ps
module tb;
  reg clk = 0, d = 1, rst_b = 1, gate = 0, ld = 0;
  wire q, rq, rqn, lq;
  tl_dfxtp_1 dff (.CLK(clk), .D(d), .Q(q));
  tl_dfrbp_1 dfr (.CLK(clk), .D(d), .Q(rq), .Q_N(rqn), .RESET_B(rst_b));
  tl_dlxtp_1 lat (.D(ld), .GATE(gate), .Q(lq));
  task check(input got, input want, input [8*24-1:0] what);
    if (got !== want) $display("FAIL %0s at %0t: %b, want %b", what, $time, got, want);
  endtask
  initial begin
    #1 rst_b = 0;                     // asynchronous clear, no clock edge
    #1 check(rq, 0, "clear Q"); check(rqn, 1, "clear Q_N");
    rst_b = 1;
    #3 clk = 1;                       // t=5: capture d=1
    #1 check(q, 1, "rise captures"); check(rq, 1, "rise captures R"); check(rqn, 0, "Q_N");
    d = 0;
    #1 check(q, 1, "holds while high");
    #3 clk = 0;                       // t=10: falling edge must not capture
    #1 check(q, 1, "falling edge ignored");
    #4 clk = 1;                       // t=15: capture d=0
    #1 check(q, 0, "second rise"); check(rqn, 1, "second rise Q_N");
    gate = 1; ld = 1;
    #1 check(lq, 1, "latch transparent");
    ld = 0;
    #1 check(lq, 0, "latch follows");
    gate = 0;
    #1 ld = 1;
    #1 check(lq, 0, "latch holds");
    $display("DONE");
  end
endmodule
"""


def test_sequential_models(hd, tmp_path):
    models = cell_models(hd, ["tl_dfxtp_1", "tl_dfrbp_1", "tl_dlxtp_1"])
    assert models.count("module ") == 3
    out = _icarus(tmp_path, {"cells.v": models, "tb.v": SEQ_TB})
    assert "FAIL" not in out, out
    assert "DONE" in out


SDF = """(DELAYFILE
 (SDFVERSION "3.0")
 (DESIGN "tb")
 (TIMESCALE 1ns)
 (CELL (CELLTYPE "tl_buf_1") (INSTANCE buf0)
  (DELAY (ABSOLUTE (IOPATH A X (1.5:1.5:1.5) (2.5:2.5:2.5)))))
 (CELL (CELLTYPE "tl_dfxtp_1") (INSTANCE ff0)
  (DELAY (ABSOLUTE (IOPATH CLK Q (0.7:0.7:0.7) (0.9:0.9:0.9)))))
 (CELL (CELLTYPE "tl_dfrbp_1") (INSTANCE ff1)
  (DELAY (ABSOLUTE (IOPATH (posedge CLK) Q (0.4:0.4:0.4) (0.4:0.4:0.4))
                   (IOPATH (negedge RESET_B) Q (0.3:0.3:0.3) (0.3:0.3:0.3)))))
)
"""

SDF_TB = """
`timescale 1ns/1ps
module tb;
  reg a = 0, clk = 0, d = 0, rst_b = 1;
  wire x, q, rq, rqn;
  tl_buf_1 buf0 (.A(a), .X(x));
  tl_dfxtp_1 ff0 (.CLK(clk), .D(d), .Q(q));
  tl_dfrbp_1 ff1 (.CLK(clk), .D(d), .Q(rq), .Q_N(rqn), .RESET_B(rst_b));
  task check(input got, input want, input [8*24-1:0] what);
    if (got !== want) $display("FAIL %0s at %0t: %b, want %b", what, $realtime, got, want);
  endtask
  initial begin
    $sdf_annotate("delays.sdf", tb);
    #5 clk = 1;                                  // q, rq := 0
    #5 clk = 0; a = 1;                           // t=10: x rises after 1.5
    #1.4 check(x, 0, "before rise delay");
    #0.2 check(x, 1, "after rise delay");
    #8.4 a = 0;                                  // t=20: x falls after 2.5
    #2.4 check(x, 1, "before fall delay");
    #0.2 check(x, 0, "after fall delay");
    d = 1;
    #7.4 clk = 1;                                // t=30: q rises after 0.7, rq after 0.4
    #0.3 check(rq, 0, "before clk->q (posedge)");
    #0.2 check(rq, 1, "after clk->q (posedge)");
    #0.1 check(q, 0, "before clk->q");
    #0.2 check(q, 1, "after clk->q");
    #1.2 rst_b = 0;                              // t=32: rq falls after 0.3
    #0.2 check(rq, 1, "before clear delay");
    #0.2 check(rq, 0, "after clear delay");
    $display("DONE");
  end
endmodule
"""


def test_sdf_delays_apply_in_icarus(hd, tmp_path):
    models = cell_models(hd, ["tl_buf_1", "tl_dfxtp_1", "tl_dfrbp_1"], with_specify=True)
    assert "(A => X) = (0, 0);" in models
    assert "(posedge CLK => (Q +: D)) = (0, 0);" in models
    out = _icarus(tmp_path, {"cells.v": models, "tb.v": SDF_TB, "delays.sdf": SDF},
                  specify=True)
    assert "SDF WARNING" not in out and "SDF ERROR" not in out, out
    assert "FAIL" not in out, out
    assert "DONE" in out


def test_specify_paths(hd):
    models = cell_models(hd, with_specify=True)
    assert models.startswith("`timescale 1ns/1ps")
    assert "(negedge RESET_B => (Q : RESET_B)) = (0, 0);" in models
    assert "(TE_B => Z) = (0, 0);" in models
    assert "(posedge GATE => (Q +: D)) = (0, 0);" in models and "(D => Q) = (0, 0);" in models
    assert "specify" not in cell_models(hd)


# ----------------------------------------------------------------------------------- errors
def _one_line(err: Exception) -> str:
    text = str(err)
    assert "\n" not in text
    return text


def test_missing_file(tmp_path):
    path = tmp_path / "absent.lib"
    with pytest.raises(LibertyError) as err:
        read_liberty(path)
    assert str(path) in _one_line(err.value)


@pytest.mark.parametrize("text, line, words", [
    ("library (x) {\n  time_unit : \"1ns\";\n  cell (a) {\n    area 3;\n  }\n}\n", 4,
     "expected ':' or '('"),
    ("library (x) {\n  cell (a) {\n    area : 3;\n", 2, "not closed"),
    ("library (x) {\n  /* never closed\n  cell (a) { }\n}\n", 2, "unterminated"),
    ("library (x) {\n  nom_voltage : 1;\n  cell (a) {\n    pin (Y) {\n"
     "      function : \"A &\";\n    }\n  }\n}\n", 5, "bad function"),
    ("library (x) {\n  nom_voltage : 1;\n  time_unit : \"1 parsec\";\n}\n", 3, "time_unit"),
])
def test_syntax_error_names_line(tmp_path, text, line, words):
    path = tmp_path / "bad.lib"
    path.write_text(text)
    with pytest.raises(LibertyError) as err:
        read_liberty(path)
    message = _one_line(err.value)
    assert message.startswith(f"{path}:{line}: "), message
    assert words in message


def test_table_size_mismatch_is_an_error():
    bad = HD_LIB.replace('values ("0.017, 0.045, 0.160", "0.110, 0.141, 0.262");',
                         'values ("0.017, 0.045", "0.110, 0.141, 0.262");')
    with pytest.raises(LibertyError, match="has 5 values"):
        parse_liberty(bad, path="hd.lib")


def test_library_without_power(tmp_path, hd):
    path = tmp_path / "nopower.lib"
    path.write_text(NO_POWER_LIB)
    lib = read_liberty(path)
    assert lib.cell("inv").leakage_nw is None
    with pytest.raises(LibertyError, match="no internal power or leakage data") as err:
        lib.require_power()
    assert _one_line(err.value).startswith(f"{path}: ")
    assert hd.require_power() is hd


# ------------------------------------------------------------------------------ OSU (optional)
OSU_LIB = os.environ.get("PICOJOULE_TEST_OSU_LIB")


@pytest.mark.skipif(not OSU_LIB, reason="set PICOJOULE_TEST_OSU_LIB to osu018_stdcells.lib "
                                        "(Debian package qflow-tech-osu018) to run")
def test_osu_smoke(tmp_path):
    text = Path(OSU_LIB).read_text()
    start = time.perf_counter()
    lib = parse_liberty(text, path=OSU_LIB)
    elapsed = time.perf_counter() - start
    assert elapsed < 1.0, f"parsing took {elapsed:.2f} s"
    assert lib.require_power() is lib and lib.nom_voltage > 0
    assert all(c.unmodelled is None for c in lib.cells.values())
    for cell in lib.cells.values():
        for pin in cell.pins.values():
            for arc in pin.internal_power:
                table = arc.rise or arc.fall
                if table is None or table.is_scalar:
                    continue
                point = {v: float(ix[-1]) for v, ix in zip(table.variables, table.indices)}
                assert table.lookup_point(point) == table.values.flat[-1]
    models = cell_models(lib, with_specify=True)
    _icarus(tmp_path, {"cells.v": models}, specify=True)
