/* Digits MLP 64-32-10 (int8) on the in-memory-compute tile.
 *
 * Weight-stationary: the tile holds one layer's weights (PJ_IMC_COLS neurons at a time); the
 * DMA streams every image's activations through it in one transfer and writes the column sums
 * back to RAM; the core adds biases, applies ReLU and the requantizing shift, and picks the
 * argmax. Layer 1 takes ceil(32 / COLS) passes, layer 2 one. The integers must equal
 * sim/soc_demos.py golden_int8 exactly. */
#include "soc_drv.h"
#include "demo.h"
#include "mlp_data.h"

#if !PJ_HAVE_IMC
#error "mlp_imc needs the IMC tile (SocParams.imc is None)"
#endif
#if PJ_IMC_ROWS != MLP_IN || PJ_IMC_A_BITS != 8 || PJ_IMC_W_BITS != 8
#error "mlp_imc needs a 64-row IMC tile with 8-bit weights and activations"
#endif

#define COLS PJ_IMC_COLS
static int32_t acc[MLP_N * COLS];
static int8_t hid[MLP_N * MLP_IN] __attribute__((aligned(4)));
static int32_t logits[MLP_N * MLP_OUT];
static uint8_t pred[MLP_N];

static void fail(const char *what, uint32_t cause)
{
    demo_kv(what, cause);
    pj_exit(2);
}

int main(void)
{
    PJ_IMC_CMD = PJ_IMC_CMD_CLEAR_MASK;
    PJ_IMC_CTRL = 8u << PJ_IMC_CTRL_A_BITS_SHIFT;
    uint64_t t0 = pj_rdcycle();
    for (int pass = 0; pass * COLS < MLP_HID; pass++) {
        pj_imc_pass(mlp_w1, MLP_IN, MLP_HID, pass, mlp_x, MLP_N, acc, fail);
        for (int n = 0; n < MLP_N; n++)
            for (int c = 0; c < COLS && pass * COLS + c < MLP_HID; c++) {
                int j = pass * COLS + c;
                int32_t v = acc[n * COLS + c] + mlp_b1[j];
                v = v < 0 ? 0 : (v + ((1 << mlp_shift1) >> 1)) >> mlp_shift1;
                hid[n * MLP_IN + j] = (int8_t)(v > 127 ? 127 : v);
            }
    }
    for (int pass = 0; pass * COLS < MLP_OUT; pass++) {
        pj_imc_pass(mlp_w2, MLP_HID, MLP_OUT, pass, hid, MLP_N, acc, fail);
        for (int n = 0; n < MLP_N; n++)
            for (int c = 0; c < COLS && pass * COLS + c < MLP_OUT; c++)
                logits[n * MLP_OUT + pass * COLS + c] = acc[n * COLS + c]
                                                        + mlp_b2[pass * COLS + c];
    }
    for (int n = 0; n < MLP_N; n++)
        pred[n] = (uint8_t)demo_argmax(&logits[n * MLP_OUT], MLP_OUT);
    uint64_t t1 = pj_rdcycle();
    uint32_t check = 0;
    for (int i = 0; i < MLP_N * MLP_OUT; i++)
        check += (uint32_t)logits[i] * (uint32_t)(i + 1);
    demo_preds(pred, mlp_labels, MLP_N);
    demo_kx("check", check);
    demo_kv("cycles", (uint32_t)(t1 - t0));
    return 0;
}
