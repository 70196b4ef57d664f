/* The digital baseline of the Un-0 digits on the core alone: the same integer MLP decoder as
 * mlpgen_imc.c (sim/onn/un0/mlp.py int_images), RV32IM multiplies, one image at a time.
 * Output as mlpgen_imc.c (-DMG_PRINT_PIXELS prints every pixel). */
#include "pj.h"
#include "demo.h"
#include "mlpgen_data.h"

static uint8_t pix[MG_IMAGES * MG_PIXELS];

int main(void)
{
    uint64_t t0 = pj_rdcycle();
    for (int k = 0; k < MG_IMAGES; k++) {
        const int8_t *z = &mg_z[k * MG_Z];
        const int32_t *c1 = &mg_c1[mg_labels[k] * MG_H];
        int8_t h[MG_H];
        for (int j = 0; j < MG_H; j++) {
            int32_t a = c1[j];
            for (int i = 0; i < MG_Z; i++)
                a += z[i] * mg_a[i * MG_H + j];
            h[j] = (int8_t)demo_round_clip(a, MG_S, 127);
        }
        for (int p = 0; p < MG_PIXELS; p++) {
            int32_t a = mg_bq[p];
            for (int j = 0; j < MG_H; j++)
                a += h[j] * mg_b[j * MG_PIXELS + p];
            pix[k * MG_PIXELS + p] = (uint8_t)demo_round_clip(a, MG_R, MG_PIXEL_MAX);
        }
    }
    uint64_t t1 = pj_rdcycle();
#ifdef MG_PRINT_PIXELS
    demo_print_images(pix, mg_labels, MG_IMAGES, MG_PIXELS);
#endif
    demo_images_done(pix, MG_IMAGES, MG_PIXELS, 0, 0, (uint32_t)(t1 - t0));
    return 0;
}
