#include "prelude.h"
PROLOGUE
    /* The testbench (tb/test_riscv.py IRQ_SCHEDULE) raises the timer line, later the external
     * line, later both; the handler masks the source it took (the lines are level-sensitive)
     * and main re-enables both sources once the lines have dropped again. */
    li s2, 0                 /* interrupts seen */
    li s4, 0
    li s5, (1 << 7) | (1 << 11)
    csrw mie, s5
    csrsi mstatus, 8
1:  addi s3, s3, 1; beq s2, s4, 1b
    mv s4, s2
    li t0, 150
2:  addi t0, t0, -1; bnez t0, 2b      /* let the line drop */
    csrw mie, s5
    li t0, 4; blt s2, t0, 1b
    csrci mstatus, 8
    bnez s11, fail
    PASS
fail:
    FAIL(1)
irq_handler:
    addi s2, s2, 1
    slli t3, t4, 1; srli t3, t3, 1           /* cause without the interrupt bit */
    li t5, 1; sll t5, t5, t3; csrc mie, t5   /* mask that source */
    addi s11, s11, -1                        /* not an exception */
    mret
TOHOST
