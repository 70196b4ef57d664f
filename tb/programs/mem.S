#include "prelude.h"
PROLOGUE
    la s0, buf
    li t0, 0x89abcdef; sw t0, 0(s0); li t0, 0x01234567; sw t0, 4(s0)
    lb a0, 0(s0); lb a0, 1(s0); lb a0, 2(s0); lb a0, 3(s0)
    lbu a0, 0(s0); lbu a0, 1(s0); lbu a0, 2(s0); lbu a0, 3(s0)
    lh a0, 0(s0); lh a0, 2(s0); lhu a0, 0(s0); lhu a0, 2(s0); lw a0, 4(s0)
    li t1, 0xa5; sb t1, 0(s0); sb t1, 1(s0); sb t1, 6(s0); sb t1, 7(s0)
    li t1, 0x5a5a; sh t1, 0(s0); sh t1, 6(s0)
    lw a0, 0(s0); lw a1, 4(s0)
    /* load-use back to back, store then load of the same word */
    lw a2, 0(s0); add a3, a2, a2; sw a3, 8(s0); lw a4, 8(s0); addi a4, a4, 1; sw a4, -4(s0)
    lw a5, -4(s0)
    /* a loop of dependent loads (pointer chase) */
    la t0, chain; li t2, 4
1:  lw t0, 0(t0); addi t2, t2, -1; bnez t2, 1b
    PASS
irq_handler:
    FAIL(2)
    .data
    .balign 4
    .word 0
buf: .word 0, 0, 0, 0
chain: .word chain + 4, chain + 8, chain + 12, chain + 16, 0
TOHOST
