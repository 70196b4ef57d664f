# Ref: RISC-V Privileged Architecture 20211203 (mtvec direct mode, mret); riscv-tests HTIF
#      convention for tohost (1 = pass, (n << 1) | 1 = failing test n).
# picojoule crt0: stack, gp, .bss, trap vector, main, exit through tohost.

    .section .text.init, "ax", @progbits
    .globl _start
_start:
    .option push
    .option norelax
    la      gp, __global_pointer$
    .option pop
    la      sp, __stack_top
    la      t0, pj_trap_entry
    csrw    mtvec, t0
    la      t0, __bss_start
    la      t1, __bss_end
1:  bgeu    t0, t1, 2f
    sw      zero, 0(t0)
    addi    t0, t0, 4
    j       1b
2:  call    main
    # main's return value r becomes the exit code: 0 -> tohost = 1 (pass), r -> (r << 1) | 1.
    call    pj_exit

# Trap vector: save the caller-saved registers, call pj_trap(mcause, mepc, mtval) (a weak C
# function; the runtime's default reports an unexpected trap and exits), restore, mret. A C
# handler that returns resumes at mepc, which it may have changed with csrw.
    .text
    .balign 4
    .globl pj_trap_entry
pj_trap_entry:
    addi    sp, sp, -64
    sw      ra, 0(sp)
    sw      t0, 4(sp)
    sw      t1, 8(sp)
    sw      t2, 12(sp)
    sw      a0, 16(sp)
    sw      a1, 20(sp)
    sw      a2, 24(sp)
    sw      a3, 28(sp)
    sw      a4, 32(sp)
    sw      a5, 36(sp)
    sw      a6, 40(sp)
    sw      a7, 44(sp)
    sw      t3, 48(sp)
    sw      t4, 52(sp)
    sw      t5, 56(sp)
    sw      t6, 60(sp)
    csrr    a0, mcause
    csrr    a1, mepc
    csrr    a2, mtval
    call    pj_trap
    lw      ra, 0(sp)
    lw      t0, 4(sp)
    lw      t1, 8(sp)
    lw      t2, 12(sp)
    lw      a0, 16(sp)
    lw      a1, 20(sp)
    lw      a2, 24(sp)
    lw      a3, 28(sp)
    lw      a4, 32(sp)
    lw      a5, 36(sp)
    lw      a6, 40(sp)
    lw      a7, 44(sp)
    lw      t3, 48(sp)
    lw      t4, 52(sp)
    lw      t5, 56(sp)
    lw      t6, 60(sp)
    addi    sp, sp, 64
    mret

# pj_exit(code): tohost = code ? (code << 1) | 1 : 1, then wait for the host forever.
    .globl pj_exit
pj_exit:
    slli    a0, a0, 1
    ori     a0, a0, 1
    la      t0, tohost
    sw      zero, 4(t0)
    sw      a0, 0(t0)
3:  j       3b

    .section .tohost, "aw", @progbits
    .balign 64
    .globl tohost
tohost:
    .word 0, 0
    .balign 64
    .globl fromhost
fromhost:
    .word 0, 0
