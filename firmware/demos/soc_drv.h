/* Drivers for the SoC's accelerators (hdl/soc.py). Every address and field comes from the
 * generated pj_memory_map.h / pj_soc.h; nothing here spells a number the hardware defines.
 *
 * DMA blocks share one register map (hdl/periph/dma.py DMA_REGS), so one driver serves both. */
#ifndef SOC_DRV_H
#define SOC_DRV_H

#include "pj.h"
#include "pj_soc.h"

#define PJ_REG(base, off) (*(volatile uint32_t *)((base) + (off)))
#define PJ_FIELD(v, reg, f) (((v) & reg##_##f##_MASK) >> reg##_##f##_SHIFT)

/* One DMA transfer: src_words words from src to the accelerator, dst_words results to dst.
 * Returns 0, or the DMA's error cause (bits of DmaCause) after clearing it. The core waits by
 * polling STATUS (its fetches use the other RAM port, so polling costs only bus slots). */
static inline uint32_t pj_dma(uintptr_t base, const void *src, uint32_t src_words, void *dst,
                              uint32_t dst_words)
{
    PJ_REG(base, PJ_DMA_SRC_OFFSET) = (uint32_t)(uintptr_t)src;
    PJ_REG(base, PJ_DMA_SRC_WORDS_OFFSET) = src_words;
    PJ_REG(base, PJ_DMA_DST_OFFSET) = (uint32_t)(uintptr_t)dst;
    PJ_REG(base, PJ_DMA_DST_WORDS_OFFSET) = dst_words;
    PJ_REG(base, PJ_DMA_CMD_OFFSET) = PJ_DMA_CMD_START_MASK;
    uint32_t st;
    do {
        st = PJ_REG(base, PJ_DMA_STATUS_OFFSET);
    } while (st & PJ_DMA_STATUS_BUSY_MASK);
    if (st & PJ_DMA_STATUS_ERROR_MASK) {
        PJ_REG(base, PJ_DMA_CMD_OFFSET) = PJ_DMA_CMD_CLEAR_MASK;
        return PJ_FIELD(st, PJ_DMA_STATUS, CAUSE);
    }
    return 0;
}

/* The same transfer through a PIO block (a SoC without DMAs): the core pushes src's words and
 * pops dst_words results, popping whenever a result waits so an accelerator that holds its
 * input while an output is pending never deadlocks. Returns 0, or the PIO's error cause
 * (PioCause bits) after clearing it. Not inlined: one copy serves every call (4 KiB RAMs). */
static __attribute__((noinline, unused)) uint32_t pj_pio(uintptr_t base, const void *src, uint32_t src_words, void *dst,
                              uint32_t dst_words)
{
    const uint32_t *s = (const uint32_t *)src;
    uint32_t *d = (uint32_t *)dst;
    uint32_t sent = 0, got = 0, st;
    while (got < dst_words || sent < src_words) {
        st = PJ_REG(base, PJ_PIO_STATUS_OFFSET);
        if (st & PJ_PIO_STATUS_ERROR_MASK)
            break;
        if ((st & PJ_PIO_STATUS_AVAIL_MASK) && got < dst_words)
            d[got++] = PJ_REG(base, PJ_PIO_POP_OFFSET);
        else if ((st & PJ_PIO_STATUS_ROOM_MASK) && sent < src_words)
            PJ_REG(base, PJ_PIO_PUSH_OFFSET) = s[sent++];
    }
    st = PJ_REG(base, PJ_PIO_STATUS_OFFSET);
    if (st & PJ_PIO_STATUS_ERROR_MASK) {
        PJ_REG(base, PJ_PIO_CMD_OFFSET) = PJ_PIO_CMD_CLEAR_MASK;
        return PJ_FIELD(st, PJ_PIO_STATUS, CAUSE);
    }
    return 0;
}

/* Feed accelerator `acc` (IMC, DOT, MUL): by its DMA or its PIO block, whichever the SoC has.
 * Error causes differ (DmaCause / PioCause); 0 means done. */
#if PJ_HAVE_DMA
#define pj_xfer(acc, src, n, dst, m) pj_dma(PJ_##acc##_DMA_BASE, src, n, dst, m)
#else
#define pj_xfer(acc, src, n, dst, m) pj_pio(PJ_##acc##_PIO_BASE, src, n, dst, m)
#endif

#if PJ_HAVE_IMC
/* Load an int8 weight matrix w[rows][cols] (row-major, `ld` bytes per row) into the tile:
 * columns [0, cols) of rows [0, rows), the rest zero. Returns the tile's error cause. */
static inline uint32_t pj_imc_load(const int8_t *w, int rows, int cols, int ld)
{
    PJ_IMC_WROW = 0;
    for (int r = 0; r < PJ_IMC_ROWS; r++) {
        for (int k = 0; k < PJ_IMC_ROW_WORDS; k++) {
            uint32_t word = 0;
            for (int b = 0; b < 4; b++) {
                int c = 4 * k + b;
                uint32_t v = (r < rows && c < cols) ? (uint8_t)w[r * ld + c] : 0;
                word |= v << (8 * b);
            }
            PJ_IMC_WDATA_AT(k) = word;
        }
        PJ_IMC_WCOMMIT = PJ_IMC_WCOMMIT_GO_MASK;
    }
    return PJ_FIELD(PJ_IMC_STATUS, PJ_IMC_STATUS, CAUSE);
}

/* Pass `pass` of a weight-stationary layer x . w, w[rows][out] int8 (row-major): loads columns
 * [pass * PJ_IMC_COLS, out), at most PJ_IMC_COLS of them, into the tile, then streams n vectors
 * of x (PJ_IMC_IN_WORDS words each) through it; acc gets PJ_IMC_OUT_WORDS sums per vector.
 * An error goes to fail("imc_error", the tile's cause) or fail("dma_error", the transfer's). */
static inline void pj_imc_pass(const int8_t *w, int rows, int out, int pass, const int8_t *x,
                               int n, int32_t *acc, void (*fail)(const char *, uint32_t))
{
    int cols = out - pass * PJ_IMC_COLS < PJ_IMC_COLS ? out - pass * PJ_IMC_COLS : PJ_IMC_COLS;
    uint32_t e = pj_imc_load(w + pass * PJ_IMC_COLS, rows, cols, out);
    if (e)
        fail("imc_error", e);
    e = pj_xfer(IMC, x, n * PJ_IMC_IN_WORDS, acc, n * PJ_IMC_OUT_WORDS);
    if (e)
        fail("dma_error", e);
}
#endif

#endif
