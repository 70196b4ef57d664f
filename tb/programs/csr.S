#include "prelude.h"
PROLOGUE
    csrr a0, misa; csrr a0, mhartid; csrr a0, mvendorid; csrr a0, marchid; csrr a0, mimpid
    csrr a0, mstatus; csrr a0, mtvec
    li t0, -1
    csrw mscratch, t0; csrr a0, mscratch; csrrc a1, mscratch, t0; csrrs a1, mscratch, a0
    csrrwi a2, mscratch, 17; csrrsi a2, mscratch, 8; csrrci a2, mscratch, 1; csrr a2, mscratch
    csrw mepc, t0; csrr a0, mepc; csrw mcause, t0; csrr a0, mcause; csrw mtval, t0
    csrr a0, mtval; csrw mie, t0; csrr a0, mie; csrw mie, zero
    csrw mstatus, t0; csrr a0, mstatus; csrw mstatus, zero; csrr a0, mstatus
    csrw misa, zero; csrr a0, misa; csrw mip, t0; csrr a0, mip
    /* mtvec: MODE bits read 0; then restore */
    csrr s1, mtvec; csrw mtvec, t0; csrr a0, mtvec; csrw mtvec, s1
    /* counters: 64-bit reads, writes to the machine counters */
    rdcycle a0; rdcycleh a1; rdinstret a2; rdinstreth a3
    csrw mcycle, zero; csrw mcycleh, zero; csrr a0, mcycle
    li t1, 0xfffffff0; csrw minstret, t1; csrw minstreth, zero
    nop; nop; nop; nop; nop; nop; nop; nop; nop; nop; nop; nop; nop; nop; nop; nop; nop
    csrr a0, minstret; csrr a1, minstreth
    /* mcycle's carry reaches mcycleh and cycleh (the compact core adds it to a RAM word) */
    li t0, -64; csrw mcycle, t0; csrwi mcycleh, 5
    li t1, 100
3:  addi t1, t1, -1; bnez t1, 3b
    csrr a0, mcycleh; csrr a1, cycleh; csrr a2, mcycle
    li t1, 6; bne a0, t1, fail; bne a1, t1, fail
    li t1, 4096; bgeu a2, t1, fail
    /* mret with MPIE set and clear */
    li t0, 0x80; csrw mstatus, t0; la t0, 1f; csrw mepc, t0; mret
1:  csrr a0, mstatus; csrw mstatus, zero; la t0, 2f; csrw mepc, t0; mret
2:  csrr a0, mstatus
    bnez s11, fail
    PASS
fail:
    FAIL(1)
irq_handler:
    FAIL(2)
TOHOST
