"""Oscillator-cell array (ONN / OIM / Kuramoto / PBIT).

- :mod:`.params`: build-time parameters, run-time configuration, modes, error causes, the
  sine table, the LFSR, clocks per epoch (everything the golden model shares with the RTL);
- :mod:`.registers`: the CSR register map;
- :mod:`.cells`: RTL building blocks of a cell (sine lookup, spin bit, LFSR advance);
- :mod:`.array`: :class:`OnnArray`, the array with its coupling memory and control FSM;
- :mod:`.tdm`: :class:`OnnTdm`, the time-multiplexed array (every per-cell quantity in memory,
  ``lanes`` cell datapaths), same registers and model.
"""

from .array import OnnArray, State
from .cells import COPY_MARKER
from .params import (
    EPOCH_OVERHEAD,
    KS_FRAC,
    LFSR_BITS,
    LFSR_TAPS,
    MAX_MOMENTUM,
    NOISE_SAMPLE_BITS,
    SCHED_FRAC,
    SEED_MUL,
    Cause,
    Mode,
    OnnParams,
    RunConfig,
    epoch_cycles,
    fill_cycles,
    lfsr_advance_matrix,
    lfsr_seed,
    sin_table,
    start_cycles,
    weights_per_word,
)
from .registers import register_map
from .tdm import OnnTdm, TdmParams, tdm_epoch_cycles, tdm_fill_cycles, tdm_start_cycles

__all__ = ["Mode", "Cause", "OnnParams", "RunConfig", "sin_table", "LFSR_BITS", "LFSR_TAPS",
           "NOISE_SAMPLE_BITS", "SCHED_FRAC", "KS_FRAC", "SEED_MUL", "MAX_MOMENTUM", "lfsr_seed",
           "lfsr_advance_matrix", "weights_per_word", "EPOCH_OVERHEAD", "epoch_cycles",
           "start_cycles", "fill_cycles", "register_map", "OnnArray", "State", "COPY_MARKER",
           "OnnTdm", "TdmParams", "tdm_epoch_cycles", "tdm_start_cycles", "tdm_fill_cycles"]
