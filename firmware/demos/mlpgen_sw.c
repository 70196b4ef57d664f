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
#if MG_S > 0
            a = (a + (1 << (MG_S - 1))) >> MG_S;
#endif
            h[j] = (int8_t)(a < 0 ? 0 : a > 127 ? 127 : a);
        }
        for (int p = 0; p < MG_PIXELS; p++) {
            int32_t a = mg_bq[p];
            for (int j = 0; j < MG_H; j++)
                a += h[j] * mg_b[j * MG_PIXELS + p];
#if MG_R > 0
            a = (a + (1 << (MG_R - 1))) >> MG_R;
#endif
            pix[k * MG_PIXELS + p] = (uint8_t)(a < 0 ? 0 : a > MG_PIXEL_MAX ? MG_PIXEL_MAX : a);
        }
    }
    uint64_t t1 = pj_rdcycle();
    uint32_t check = 0;
    for (int i = 0; i < MG_IMAGES * MG_PIXELS; i++)
        check += (uint32_t)pix[i] * (uint32_t)(i + 1);
#ifdef MG_PRINT_PIXELS
    demo_print_images(pix, mg_labels, MG_IMAGES, MG_PIXELS);
#endif
    demo_kx("check", check);
    demo_kv("images", MG_IMAGES);
    demo_kv("cycles", (uint32_t)(t1 - t0));
    return 0;
}
