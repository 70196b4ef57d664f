#include "prelude.h"
PROLOGUE
    /* Self-modifying code: patch the instruction at `slot`, fence.i, run it. */
    la t0, slot
    la t1, patch; lw t2, 0(t1)
    sw t2, 0(t0)
    fence.i
slot:
    addi a0, zero, 1          /* replaced by: addi a0, zero, 42 */
    li t1, 42; bne a0, t1, fail
    PASS
fail:
    FAIL(1)
irq_handler:
    FAIL(2)
    .data
    .balign 4
patch: addi a0, zero, 42
TOHOST
