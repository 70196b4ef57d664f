/* Output conventions of the demos (read back by sim/soc_demos.py parse_console): one
 * `key value` per line; `pred` lists one digit per image; `check` is a checksum of every
 * logit (sum of logit * (index + 1), mod 2^32); `cycles` counts the inference only. */
#ifndef DEMO_H
#define DEMO_H

#include "pj.h"

static inline void demo_kv(const char *key, uint32_t v)
{
    pj_puts(key);
    pj_putc(' ');
    pj_put_dec(v);
    pj_putc('\n');
}

static inline void demo_kx(const char *key, uint32_t v)
{
    pj_puts(key);
    pj_putc(' ');
    pj_put_hex(v);
    pj_putc('\n');
}

static inline void demo_preds(const uint8_t *pred, const uint8_t *labels, int n)
{
    int correct = 0;
    pj_puts("pred ");
    for (int i = 0; i < n; i++) {
        pj_putc((char)('0' + pred[i]));
        correct += pred[i] == labels[i];
    }
    pj_putc('\n');
    demo_kv("correct", (uint32_t)correct);
    demo_kv("images", (uint32_t)n);
}

/* Index of the first maximum of n int32 values. */
static inline int demo_argmax(const int32_t *v, int n)
{
    int best = 0;
    for (int i = 1; i < n; i++)
        if (v[i] > v[best])
            best = i;
    return best;
}

/* (v + 2^(shift-1)) >> shift (an arithmetic shift: floor), clipped to 0..max: the readouts'
 * and decoders' rounding (sim/onn/un0 computes the same on the model side). */
static inline int32_t demo_round_clip(int32_t v, int shift, int32_t max)
{
    if (shift > 0)
        v = (v + (1 << (shift - 1))) >> shift;
    return v < 0 ? 0 : v > max ? max : v;
}

/* Checksum of n pixels: sum of pixel * (index + 1), mod 2^32 (sim/soc/demos.py checks it
 * against the model's pixels). */
static inline uint32_t demo_pixel_check(const uint8_t *pix, int n)
{
    uint32_t check = 0;
    for (int i = 0; i < n; i++)
        check += (uint32_t)pix[i] * (uint32_t)(i + 1);
    return check;
}

/* One line per image: `img <class> <pixels, one base-17 digit each>` (sim/soc/demos.py
 * un0_parse reads them back). */
static inline void demo_print_images(const uint8_t *pix, const uint8_t *labels, int n,
                                     int pixels)
{
    static const char digit[] = "0123456789abcdefg";
    for (int k = 0; k < n; k++) {
        pj_puts("img ");
        pj_putc((char)('0' + labels[k]));
        pj_putc(' ');
        for (int p = 0; p < pixels; p++)
            pj_putc(digit[pix[k * pixels + p]]);
        pj_putc('\n');
    }
}

/* The generator demos' last lines, after their images (demo_print_images, when printed):
 * `check` (demo_pixel_check of n images of `pixels` pixels), `key v` when key is not 0
 * (un0_demo's onn_busy), `images` and `cycles`. */
static inline void demo_images_done(const uint8_t *pix, int n, int pixels, const char *key,
                                    uint32_t v, uint32_t cycles)
{
    demo_kx("check", demo_pixel_check(pix, n * pixels));
    if (key)
        demo_kv(key, v);
    demo_kv("images", (uint32_t)n);
    demo_kv("cycles", cycles);
}

#endif
