#include "prelude.h"
PROLOGUE
    /* Every ALU op on corner operands, register and immediate forms. */
    la s0, operands
    li s1, 0
outer:
    slli t0, s1, 2; add t0, s0, t0; lw a0, 0(t0)
    li s2, 0
inner:
    slli t0, s2, 2; add t0, s0, t0; lw a1, 0(t0)
    add a2, a0, a1; sub a2, a0, a1; sll a2, a0, a1; slt a2, a0, a1; sltu a2, a0, a1
    xor a2, a0, a1; srl a2, a0, a1; sra a2, a0, a1; or a2, a0, a1; and a2, a0, a1
    beq a0, a1, 1f; nop
1:  bne a0, a1, 1f; nop
1:  blt a0, a1, 1f; nop
1:  bge a0, a1, 1f; nop
1:  bltu a0, a1, 1f; nop
1:  bgeu a0, a1, 1f; nop
1:  addi s2, s2, 1; li t0, 9; blt s2, t0, inner
    addi a3, a0, -1; addi a3, a0, 2047; addi a3, a0, -2048; slti a3, a0, -1; slti a3, a0, 5
    sltiu a3, a0, -1; sltiu a3, a0, 1; xori a3, a0, -1; ori a3, a0, 0x555; andi a3, a0, 0x7f0
    slli a3, a0, 0; slli a3, a0, 31; srli a3, a0, 1; srli a3, a0, 31; srai a3, a0, 0
    srai a3, a0, 31; srai a3, a0, 17
    addi s1, s1, 1; li t0, 9; blt s1, t0, outer
    lui a4, 0xfffff; lui a4, 0x80000; lui x0, 1; auipc a5, 0; auipc a5, 0xfffff
    add x0, a0, a1; addi x0, x0, 5
    /* jal/jalr: link values, jalr clears bit 0, negative offsets. */
    jal ra, 1f
    nop
1:  la t0, 2f + 1; jalr ra, 0(t0)
    nop
2:  la t0, 3f + 8; jalr t1, -8(t0)
    nop
3:  jal x0, 4f
    nop
4:  PASS
irq_handler:
    FAIL(2)
    .data
    .balign 4
operands: .word 0, 1, -1, 0x7fffffff, 0x80000000, 31, 32, 0x12345678, 0xfedcba98
TOHOST
