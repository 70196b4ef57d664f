/* picojoule firmware runtime (see pj.h). */
#include "pj.h"

void pj_putc(char c)
{
#if PJ_CONSOLE
    while (PJ_UART_STATUS & PJ_UART_STATUS_TX_BUSY_MASK)
        ;
    PJ_UART_TX = (uint8_t)c;
#else
    (void)c;
#endif
}

void pj_puts(const char *s)
{
    while (*s)
        pj_putc(*s++);
}

void pj_put_hex(uint32_t v)
{
    for (int i = 28; i >= 0; i -= 4)
        pj_putc("0123456789abcdef"[(v >> i) & 15]);
}

void pj_put_u64(uint64_t v)
{
    char buf[21];
    int n = 0;
    do {   /* shift-subtract division keeps rv32i builds free of 64-bit divide calls */
        uint64_t q = 0, r = 0;
        for (int i = 63; i >= 0; i--) {
            r = (r << 1) | ((v >> i) & 1);
            if (r >= 10) {
                r -= 10;
                q |= (uint64_t)1 << i;
            }
        }
        buf[n++] = (char)('0' + r);
        v = q;
    } while (v);
    while (n)
        pj_putc(buf[--n]);
}

void pj_put_dec(uint32_t v)
{
    pj_put_u64(v);
}

void pj_report(const char *name, uint64_t cycles, uint64_t instret)
{
    pj_puts(name);
    pj_puts(": ");
    pj_put_u64(cycles);
    pj_puts(" cycles, ");
    pj_put_u64(instret);
    pj_puts(" instructions\n");
}

__attribute__((weak)) void pj_trap(uint32_t mcause, uint32_t mepc, uint32_t mtval)
{
    pj_puts("unexpected trap: mcause=");
    pj_put_hex(mcause);
    pj_puts(" mepc=");
    pj_put_hex(mepc);
    pj_puts(" mtval=");
    pj_put_hex(mtval);
    pj_putc('\n');
    pj_exit((mcause >> 31 ? PJ_EXIT_IRQ : PJ_EXIT_TRAP) + (int)(mcause & 0x3f));
}

/* The compiler may emit calls to these for struct copies and array initialisers. Weak: a
 * toolchain library that brings its own wins. GCC must not turn the loops back into calls. */
#if defined(__GNUC__) && !defined(__clang__)
#define PJ_NO_IDIOM __attribute__((optimize("no-tree-loop-distribute-patterns")))
#else
#define PJ_NO_IDIOM
#endif

/* Word-at-a-time when both pointers share their alignment (as a C library's would): a 48-byte
 * struct copy is 12 load/store pairs, not 48. */
__attribute__((weak)) PJ_NO_IDIOM void *memcpy(void *dst, const void *src, size_t n)
{
    uint8_t *d = dst;
    const uint8_t *s = src;
    if ((((uintptr_t)d ^ (uintptr_t)s) & 3) == 0) {
        for (; n && ((uintptr_t)d & 3); n--)
            *d++ = *s++;
        uint32_t *dw = (uint32_t *)d;
        const uint32_t *sw = (const uint32_t *)s;
        for (; n >= 4; n -= 4)
            *dw++ = *sw++;
        d = (uint8_t *)dw;
        s = (const uint8_t *)sw;
    }
    while (n--)
        *d++ = *s++;
    return dst;
}

__attribute__((weak)) PJ_NO_IDIOM void *memset(void *dst, int c, size_t n)
{
    uint8_t *d = dst;
    for (; n && ((uintptr_t)d & 3); n--)
        *d++ = (uint8_t)c;
    uint32_t *dw = (uint32_t *)d;
    for (uint32_t w = (uint8_t)c * 0x01010101u; n >= 4; n -= 4)
        *dw++ = w;
    d = (uint8_t *)dw;
    while (n--)
        *d++ = (uint8_t)c;
    return dst;
}
