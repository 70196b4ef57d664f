/* picojoule firmware runtime: console on the SoC UART, cycle/instret counters, exit, results.
 *
 * Addresses and register fields come from pj_memory_map.h, generated from hdl/memory_map.py
 * by sim/firmware.py. Build with -DPJ_CONSOLE=0 to compile the console out (for Spike, whose
 * memory map has no picojoule UART).
 */
#ifndef PJ_H
#define PJ_H

#include <stdint.h>
#include <stddef.h>

#include "pj_memory_map.h"

#ifndef PJ_CONSOLE
#define PJ_CONSOLE 1
#endif

/* Exit codes of the default trap handler: 1000 + exception code, 1100 + interrupt code. */
#define PJ_EXIT_TRAP 1000
#define PJ_EXIT_IRQ 1100

/* An array of result words placed between begin_signature and end_signature. */
#define PJ_SIGNATURE(name, words) \
    __attribute__((section(".signature"), aligned(16))) volatile uint32_t name[words]

void pj_putc(char c);
void pj_puts(const char *s);
void pj_put_hex(uint32_t v);
void pj_put_dec(uint32_t v);
void pj_put_u64(uint64_t v);
__attribute__((noreturn)) void pj_exit(int code);
void pj_trap(uint32_t mcause, uint32_t mepc, uint32_t mtval);
void pj_report(const char *name, uint64_t cycles, uint64_t instret);

/* 64-bit counters read as hi/lo/hi (retry if the high half changed in between). */
static inline uint64_t pj_rdcycle(void)
{
    uint32_t hi, lo, hi2;
    do {
        __asm__ volatile ("rdcycleh %0" : "=r"(hi));
        __asm__ volatile ("rdcycle %0" : "=r"(lo));
        __asm__ volatile ("rdcycleh %0" : "=r"(hi2));
    } while (hi != hi2);
    return ((uint64_t)hi << 32) | lo;
}

static inline uint64_t pj_rdinstret(void)
{
    uint32_t hi, lo, hi2;
    do {
        __asm__ volatile ("rdinstreth %0" : "=r"(hi));
        __asm__ volatile ("rdinstret %0" : "=r"(lo));
        __asm__ volatile ("rdinstreth %0" : "=r"(hi2));
    } while (hi != hi2);
    return ((uint64_t)hi << 32) | lo;
}

/* xorshift32: the benchmarks' input generator (sim/firmware.py mirrors it for expectations). */
static inline uint32_t pj_xorshift32(uint32_t *state)
{
    uint32_t x = *state;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return *state = x;
}

#endif
