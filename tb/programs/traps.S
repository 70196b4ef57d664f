#include "prelude.h"
PROLOGUE
    /* illegal encodings */
    .word 0x00000000
    .word 0xffffffff
    .word 0x0000000b          /* custom-0 without an accelerator */
    .word 0x02000033          /* mul without M (illegal when the core has no M) */
    .word 0x40001013          /* slli with funct7 = 0100000 */
    .word 0x00001073 | (0x123 << 20)   /* csrrw x0, 0x123 (unimplemented CSR) */
    csrr a0, 0x7c0            /* unimplemented custom CSR */
    csrw cycle, a0            /* write to a read-only CSR */
    csrs mhartid, a0
    csrr a0, cycle            /* reading read-only CSRs is fine */
    csrrs a0, instret, x0
    csrrsi a0, mvendorid, 0
    csrrci a0, marchid, 0
    /* misaligned loads, stores and jump/branch targets */
    la s0, buf
    lh a0, 1(s0); lw a0, 2(s0); lw a0, 1(s0); lhu a0, 3(s0)
    sh a0, 1(s0); sw a0, 3(s0); sw a0, 2(s0)
    la t0, 1f + 2; jalr ra, 0(t0)
1:  jal ra, 2f
    nop
2:  li a1, 1; beqz x0, 3f + 2
3:  nop
    /* access faults: loads and stores outside every region, fetch outside RAM */
    li t0, 0x00000000; lw a0, 0(t0); sw a0, 0(t0); lb a0, 3(t0)
    li t0, 0x40000000; lw a0, 0(t0); sh a0, 0(t0)
    li t0, 0x10000f00; lw a0, 0(t0)
    li t0, 0x7ffffffc; lw a0, 0(t0)
    li t0, 0x20000000; jalr ra, 0(t0)
    /* ecall, ebreak; wfi and fences are plain instructions */
    ecall; ebreak; wfi; fence; fence.i; fence rw, rw
    /* a load into x0 still traps on a fault */
    li t0, 4; lw x0, 0(t0)
    li t0, 29; bne s11, t0, fail
    PASS
fail:
    FAIL(1)
irq_handler:
    FAIL(2)
    .data
    .balign 4
buf: .word 0x11223344, 0x55667788
TOHOST
