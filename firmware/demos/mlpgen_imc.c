/* The digital baseline of the Un-0 digits (docs/onn.md, "Un-0"): a small MLP decoder from
 * noise and class to 64 pixels (sim/onn/un0/mlp.py), int8 on the IMC tile.
 *
 * Per image the host-drawn noise zq (MG_Z int8 values) and the class; layer 1
 * hq = clamp((zq . Aq + c1[y] + 2^(s-1)) >> s, 0, 127) (the class is a vector added by the
 * core, not MACs), layer 2 pixel = clip((hq . Bq + bq + 2^(R-1)) >> R, 0, 16).
 * Weight-stationary as mlp_imc.c: the tile holds PJ_IMC_COLS columns of one layer, the DMA
 * streams every image's vector through it, the core adds, rounds, shifts and clips. Every
 * pixel must equal sim/onn/un0/mlp.py int_images (sim/soc/demos.py mlpgen_demo_data):
 * printed with -DMG_PRINT_PIXELS, else only their checksum (sum of pixel * (index + 1)). */
#include "soc_drv.h"
#include "demo.h"
#include "mlpgen_data.h"

#if !PJ_HAVE_IMC
#error "mlpgen_imc needs the IMC tile"
#endif
#if MG_Z > PJ_IMC_ROWS || MG_H > PJ_IMC_ROWS || PJ_IMC_A_BITS != 8 || PJ_IMC_W_BITS != 8
#error "mlpgen_imc needs an IMC tile of 8-bit weights and activations with max(Z, H) rows"
#endif

#define ROWS PJ_IMC_ROWS
#define COLS PJ_IMC_COLS
static int8_t vin[MG_IMAGES * ROWS] __attribute__((aligned(4)));    /* rows >= Z stay 0 */
static int8_t hid[MG_IMAGES * ROWS] __attribute__((aligned(4)));    /* rows >= H stay 0 */
static int32_t acc[MG_IMAGES * COLS];
static uint8_t pix[MG_IMAGES * MG_PIXELS];

static void fail(const char *what, uint32_t v)
{
    demo_kv(what, v);
    pj_exit(2);
}

int main(void)
{
    PJ_IMC_CMD = PJ_IMC_CMD_CLEAR_MASK;
    PJ_IMC_CTRL = 8u << PJ_IMC_CTRL_A_BITS_SHIFT;
    uint64_t t0 = pj_rdcycle();
    for (int k = 0; k < MG_IMAGES; k++)
        for (int i = 0; i < MG_Z; i++)
            vin[k * ROWS + i] = mg_z[k * MG_Z + i];
    for (int pass = 0; pass * COLS < MG_H; pass++) {
        pj_imc_pass(mg_a, MG_Z, MG_H, pass, vin, MG_IMAGES, acc, fail);
        for (int k = 0; k < MG_IMAGES; k++)
            for (int c = 0; c < COLS && pass * COLS + c < MG_H; c++) {
                int j = pass * COLS + c;
                int32_t v = acc[k * COLS + c] + mg_c1[mg_labels[k] * MG_H + j];
                hid[k * ROWS + j] = (int8_t)demo_round_clip(v, MG_S, 127);
            }
    }
    for (int pass = 0; pass * COLS < MG_PIXELS; pass++) {
        pj_imc_pass(mg_b, MG_H, MG_PIXELS, pass, hid, MG_IMAGES, acc, fail);
        for (int k = 0; k < MG_IMAGES; k++)
            for (int c = 0; c < COLS && pass * COLS + c < MG_PIXELS; c++) {
                int p = pass * COLS + c;
                pix[k * MG_PIXELS + p] = (uint8_t)demo_round_clip(acc[k * COLS + c] + mg_bq[p],
                                                                  MG_R, MG_PIXEL_MAX);
            }
    }
    uint64_t t1 = pj_rdcycle();
#ifdef MG_PRINT_PIXELS
    demo_print_images(pix, mg_labels, MG_IMAGES, MG_PIXELS);
#endif
    demo_images_done(pix, MG_IMAGES, MG_PIXELS, 0, 0, (uint32_t)(t1 - t0));
    return 0;
}
