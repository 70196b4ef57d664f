/* Directed core tests: each program runs in lockstep with the ISS (tb/test_riscv.py), so every
 * retired instruction is checked; the programs only have to reach the cases. A common trap
 * handler counts traps in s11 and resumes after the faulting instruction (or at ra after an
 * instruction fetch fault). PASS writes 1 to tohost. */
#define PASS        la t6, tohost; li t5, 1; sw t5, 0(t6); 1: j 1b
#define FAIL(n)     la t6, tohost; li t5, (n << 1) | 1; sw t5, 0(t6); 1: j 1b

#define PROLOGUE \
    .section .text.init, "ax", @progbits; \
    .globl _start; \
_start: \
    la t0, trap_handler; csrw mtvec, t0; li s11, 0; j main; \
    .balign 4; \
trap_handler: \
    addi s11, s11, 1; \
    csrr t4, mcause; \
    bltz t4, 3f; \
    li t3, 1; \
    beq t4, t3, 2f; \
    csrr t3, mepc; addi t3, t3, 4; csrw mepc, t3; mret; \
2:  csrw mepc, ra; mret; \
3:  j irq_handler; \
main:

#define TOHOST \
    .section .tohost, "aw", @progbits; .balign 64; .globl tohost; tohost: .word 0; .word 0; \
    .globl fromhost; fromhost: .word 0; .word 0
