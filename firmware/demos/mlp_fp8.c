/* Digits MLP 64-32-10 in fp8 (e4m3) on the dot-product units: every neuron is one dot product
 * of its weight row (bias folded in as one more element against an input of 1.0), streamed by
 * the DMA against the layer's input held in XBUF; fp32 results, ReLU and conversion back to
 * e4m3 on the core (integer code; sim/soc_demos.py fp32_to_fp8 mirrors it). Runs the network
 * once per unit the SoC has (L-Mul, then exact products) and prints each one's predictions,
 * logit checksum and cycles; sim/soc_demos.py golden_fp8 gives the expected values. */
#include "soc_drv.h"
#include "demo.h"
#include "mlp8_data.h"

#if !PJ_HAVE_DOT
#error "mlp_fp8 needs the dot-product units (SocParams.dot is None)"
#endif
#if MLP8_L1 % PJ_DOT_LANES || MLP8_L2 % PJ_DOT_LANES
#error "mlp_fp8: the vectors were padded for another lane count than this SoC's dot units"
#endif
#if MLP8_L1 / PJ_DOT_LANES > PJ_DOT_MAX_CHUNKS
#error "mlp_fp8: a 65-element vector needs more chunks than the dot unit's XBUF holds"
#endif

static uint32_t out1[MLP8_HID], out2[MLP8_N * MLP8_OUT];
static uint8_t hid[MLP8_L2] __attribute__((aligned(4)));
static uint8_t pred[MLP8_N];

static uint8_t f32_to_f8(uint32_t b)
{
    uint32_t s = (b >> 31) << MLP8_MAG_BITS, exp = (b >> 23) & 0xff, man = b & 0x7fffff;
    if (exp == 0xff)
        return (uint8_t)(man ? MLP8_NAN : s | MLP8_MAX_FINITE);
    if (exp == 0)
        return (uint8_t)s;
    const int drop = 23 - MLP8_MAN_BITS;
    uint32_t q = (man | (1u << 23)) >> drop;
    uint32_t rem = man & ((1u << drop) - 1), half = 1u << (drop - 1);
    if (rem > half || (rem == half && (q & 1)))
        q++;
    int e = (int)exp - 127 + MLP8_BIAS;
    if (q >> (MLP8_MAN_BITS + 1)) {
        q >>= 1;
        e++;
    }
    if (e < 1)
        return (uint8_t)s;
    if (e > MLP8_EXP_MAX_FIELD)
        return (uint8_t)(s | MLP8_MAX_FINITE);
    uint32_t mag = ((uint32_t)e << MLP8_MAN_BITS) | (q & ((1u << MLP8_MAN_BITS) - 1));
    if (mag > MLP8_MAX_FINITE)
        mag = MLP8_MAX_FINITE;
    return (uint8_t)(s | mag);
}

static int32_t order_key(uint32_t b)
{
    return (int32_t)b >= 0 ? (int32_t)b : -(int32_t)(b & 0x7fffffffu);
}

static void fail(const char *what, uint32_t cause)
{
    demo_kv(what, cause);
    pj_exit(2);
}

/* XBUF <- vector x of len bytes; then the DMA streams `rows` weight rows against it. */
static void layer(const uint8_t *x, int len, const uint8_t *w, int rows, uint32_t *out, int kind)
{
    const uint32_t *xw = (const uint32_t *)x;
    for (int k = 0; k < len / 4; k++)
        PJ_DOT_XBUF_AT(k) = xw[k];
    PJ_DOT_CTRL = ((uint32_t)(len / PJ_DOT_LANES) << PJ_DOT_CTRL_CHUNKS_SHIFT)
                  | ((uint32_t)kind << PJ_DOT_CTRL_KIND_SHIFT);
    uint32_t st = PJ_DOT_STATUS;
    if (st & PJ_DOT_STATUS_ERROR_MASK)
        fail("dot_error", PJ_FIELD(st, PJ_DOT_STATUS, CAUSE));
    uint32_t e = pj_xfer(DOT, w, (uint32_t)(rows * len / 4), out, (uint32_t)rows);
    if (e)
        fail("dma_error", e);
}

static void run(int kind, const char *name)
{
    uint64_t t0 = pj_rdcycle();
    for (int n = 0; n < MLP8_N; n++) {
        layer(&mlp8_x[n * MLP8_L1], MLP8_L1, mlp8_w1, MLP8_HID, out1, kind);
        for (int j = 0; j < MLP8_L2; j++)
            hid[j] = 0;
        for (int j = 0; j < MLP8_HID; j++)
            hid[j] = out1[j] >> 31 ? 0 : f32_to_f8(out1[j]);
        hid[MLP8_HID] = MLP8_ONE;
        uint32_t *lg = &out2[n * MLP8_OUT];
        layer(hid, MLP8_L2, mlp8_w2, MLP8_OUT, lg, kind);
        int best = 0;
        for (int c = 1; c < MLP8_OUT; c++)
            if (order_key(lg[c]) > order_key(lg[best]))
                best = c;
        pred[n] = (uint8_t)best;
    }
    uint64_t t1 = pj_rdcycle();
    uint32_t check = 0;
    for (int i = 0; i < MLP8_N * MLP8_OUT; i++)
        check += out2[i] * (uint32_t)(i + 1);
    pj_puts("unit ");
    pj_puts(name);
    pj_putc('\n');
    demo_preds(pred, mlp8_labels, MLP8_N);
    demo_kx("check", check);
    demo_kv("cycles", (uint32_t)(t1 - t0));
}

int main(void)
{
    PJ_DOT_CMD = PJ_DOT_CMD_CLEAR_MASK;
#if PJ_DOT_HAVE_LMUL
    run(0, "lmul");
#endif
#if PJ_DOT_HAVE_FPMUL
    run(1, "fpmul");
#endif
    return 0;
}
