/* Oscillator array demos, driven by firmware through the array's registers.
 *
 * Max-Cut: couplings J = -W of a random graph, Ising-machine mode with the run-time schedule
 * sim/maxcut.py default_config chose (in onn_data.h), one START per seed; the core reads the
 * spins, computes each cut and keeps the best. Recall: Hebbian couplings of stored patterns,
 * cue phases written cell by cell, ONN mode until an epoch changes nothing; spins read back.
 * Every run's spins must equal sim/onn.py's (sim/soc_demos.py onn_demo_data). */
#include "soc_drv.h"
#include "demo.h"
#include "onn_data.h"

#if !PJ_HAVE_ONN
#error "onn_demo needs the oscillator array (SocParams.onn is None)"
#endif
#if MC_N != PJ_ONN_N || PJ_ONN_N > 32
#error "onn_demo: the data was generated for another array size (or more than 32 cells)"
#endif

static void fail(const char *what, uint32_t v)
{
    demo_kv(what, v);
    pj_exit(2);
}

/* Couplings J[i][j] = sign * w[i][j], column by column (JDATA advances group, then column). */
static void load_couplings(const int8_t *w, int sign)
{
    PJ_ONN_JADDR = 0;
    const uint32_t mask = (1u << PJ_ONN_WEIGHT_BITS) - 1;
    for (int j = 0; j < PJ_ONN_N; j++)
        for (int g = 0; g * PJ_ONN_WEIGHTS_PER_WORD < PJ_ONN_N; g++) {
            uint32_t word = 0;
            for (int f = 0; f < PJ_ONN_WEIGHTS_PER_WORD; f++) {
                int i = g * PJ_ONN_WEIGHTS_PER_WORD + f;
                int v = i < PJ_ONN_N ? sign * w[i * PJ_ONN_N + j] : 0;
                word |= ((uint32_t)v & mask) << (PJ_ONN_JDATA_W0_SHIFT + f * PJ_ONN_WEIGHT_BITS);
            }
            PJ_ONN_JDATA = word;
        }
}

static uint32_t run(uint32_t cmd)
{
    PJ_ONN_CMD = cmd;
    uint32_t st;
    do {
        st = PJ_ONN_STATUS;
    } while (st & PJ_ONN_STATUS_BUSY_MASK);
    if (st & PJ_ONN_STATUS_ERROR_MASK)
        fail("onn_error", PJ_FIELD(st, PJ_ONN_STATUS, CAUSE));
    return PJ_ONN_SPINS_AT(0);     /* cells 0..31 */
}

static int cut_value(uint32_t spins)
{
    int cut = 0;
    for (int i = 0; i < PJ_ONN_N; i++)
        for (int j = i + 1; j < PJ_ONN_N; j++)
            if (((spins >> i) ^ (spins >> j)) & 1)
                cut += mc_w[i * PJ_ONN_N + j];
    return cut;
}

int main(void)
{
    PJ_ONN_CMD = PJ_ONN_CMD_CLEAR_MASK;
    uint64_t t0 = pj_rdcycle();
    uint32_t busy = 0;
    /* ---- Max-Cut */
    load_couplings(mc_w, -1);
    PJ_ONN_CONFIG = ((uint32_t)MC_MODE << PJ_ONN_CONFIG_MODE_SHIFT)
                    | ((uint32_t)MC_SHIFT << PJ_ONN_CONFIG_SHIFT_SHIFT);
    PJ_ONN_KS_MAX = MC_KS_MAX;
    PJ_ONN_KS_INC = MC_KS_INC;
    PJ_ONN_NOISE_AMP = MC_NOISE_AMP;
    PJ_ONN_NOISE_DEC = MC_NOISE_DEC;
    PJ_ONN_EPOCHS = MC_EPOCHS;
    int best = -1;
    for (int s = 0; s < MC_SEEDS; s++) {
        PJ_ONN_SEED = mc_seeds[s];
        uint32_t spins = run(PJ_ONN_CMD_START_MASK);
        busy += PJ_ONN_CYCLES;
        int cut = cut_value(spins);
        pj_puts("cut ");
        pj_put_dec(mc_seeds[s]);
        pj_putc(' ');
        pj_put_hex(spins);
        pj_putc(' ');
        pj_put_dec((uint32_t)cut);
        pj_putc('\n');
        if (cut > best)
            best = cut;
    }
    demo_kv("best", (uint32_t)best);
    /* ---- associative recall */
    load_couplings(rc_w, 1);
    PJ_ONN_CONFIG = ((uint32_t)RC_MODE << PJ_ONN_CONFIG_MODE_SHIFT)
                    | PJ_ONN_CONFIG_UNTIL_STABLE_MASK;
    PJ_ONN_KS_MAX = 0;
    PJ_ONN_KS_INC = 0;
    PJ_ONN_NOISE_AMP = 0;
    PJ_ONN_NOISE_DEC = 0;
    PJ_ONN_SEED = RC_SEED;
    PJ_ONN_EPOCHS = RC_EPOCHS;
    for (int k = 0; k < RC_TRIALS; k++) {
        PJ_ONN_CELL = 0;
        for (int i = 0; i < PJ_ONN_N; i++)      /* PHASE advances CELL */
            PJ_ONN_PHASE = ((rc_cues[k] >> i) & 1) << (PJ_ONN_PHASE_BITS - 1);
        uint32_t spins = run(PJ_ONN_CMD_START_MASK | PJ_ONN_CMD_KEEP_PHASES_MASK);
        busy += PJ_ONN_CYCLES;
        pj_puts("recall ");
        pj_put_hex(rc_cues[k]);
        pj_putc(' ');
        pj_put_hex(spins);
        pj_putc(' ');
        pj_put_dec(PJ_ONN_EPOCH);
        pj_putc('\n');
    }
    uint64_t t1 = pj_rdcycle();
    demo_kv("onn_busy", busy);
    demo_kv("cycles", (uint32_t)(t1 - t0));
    return 0;
}
