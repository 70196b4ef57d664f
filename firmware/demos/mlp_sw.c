/* Digits MLP 64-32-10 (int8), the baseline: the same integer network as mlp_imc.c computed by
 * the core alone (RV32IM multiplies). Same golden model (sim/soc_demos.py golden_int8). */
#include "pj.h"
#include "demo.h"
#include "mlp_data.h"

static int32_t logits[MLP_N * MLP_OUT];
static uint8_t pred[MLP_N];

int main(void)
{
    uint64_t t0 = pj_rdcycle();
    for (int n = 0; n < MLP_N; n++) {
        const int8_t *x = &mlp_x[n * MLP_IN];
        int8_t h[MLP_HID];
        for (int j = 0; j < MLP_HID; j++) {
            int32_t a = mlp_b1[j];
            for (int i = 0; i < MLP_IN; i++)
                a += x[i] * mlp_w1[i * MLP_HID + j];
            a = a < 0 ? 0 : (a + ((1 << mlp_shift1) >> 1)) >> mlp_shift1;
            h[j] = (int8_t)(a > 127 ? 127 : a);
        }
        for (int c = 0; c < MLP_OUT; c++) {
            int32_t a = mlp_b2[c];
            for (int j = 0; j < MLP_HID; j++)
                a += h[j] * mlp_w2[j * MLP_OUT + c];
            logits[n * MLP_OUT + c] = a;
        }
        pred[n] = (uint8_t)demo_argmax(&logits[n * MLP_OUT], MLP_OUT);
    }
    uint64_t t1 = pj_rdcycle();
    uint32_t check = 0;
    for (int i = 0; i < MLP_N * MLP_OUT; i++)
        check += (uint32_t)logits[i] * (uint32_t)(i + 1);
    demo_preds(pred, mlp_labels, MLP_N);
    demo_kx("check", check);
    demo_kv("cycles", (uint32_t)(t1 - t0));
    return 0;
}
