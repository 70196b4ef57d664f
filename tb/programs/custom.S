#include "prelude.h"
/* custom-0 (opcode 0001011) on a core with the port and tb's ExampleAccelerator:
 * rd = (rs1 << 1) + rs2 after funct3 wait clocks; funct7 != 0 traps as illegal. */
#define CUSTOM(f7, rd, rs1, rs2, f3) \
    .word ((f7) << 25) | ((rs2) << 20) | ((rs1) << 15) | ((f3) << 12) | ((rd) << 7) | 0x0b
PROLOGUE
    li a0, 0x12345678; li a1, -7
    li s1, 0
1:  /* every latency 0..7 (funct3), checked against the same arithmetic in base ISA */
    CUSTOM(0, 12, 10, 11, 0)        /* a2 = (a0 << 1) + a1 */
    slli t0, a0, 1; add t0, t0, a1; bne a2, t0, fail
    CUSTOM(0, 13, 10, 11, 7)        /* a3, 7 wait clocks */
    bne a3, t0, fail
    CUSTOM(0, 0, 10, 11, 3)         /* rd = x0: nothing written */
    addi a0, a0, 0x333; addi a1, a1, 5
    addi s1, s1, 1; li t1, 5; blt s1, t1, 1b
    CUSTOM(1, 12, 10, 11, 0)        /* refused: traps */
    CUSTOM(0x40, 12, 10, 11, 2)     /* refused after waiting */
    li t1, 2; bne s11, t1, fail
    PASS
fail:
    FAIL(1)
irq_handler:
    FAIL(2)
TOHOST
