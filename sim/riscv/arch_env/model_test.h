/* picojoule's target header for riscv-arch-test (RVMODEL_* macros of the suite's test format
 * spec): RAM at 0x8000_0000 (the link script comes from hdl/memory_map.py), the run ends at the
 * first write to `tohost` (value 1: done), the signature lies between `begin_signature` and
 * `end_signature`, which `picojoule run-elf --signature` and Spike's +signature both dump.
 * No interrupt sources are wired for these tests: the interrupt macros are empty. */
#ifndef PJ_MODEL_TEST_H
#define PJ_MODEL_TEST_H

#define ALIGNMENT 2

#define RVMODEL_DATA_SECTION \
        .pushsection .tohost, "aw", @progbits;                          \
        .align 8; .global tohost; tohost: .word 0; .word 0;             \
        .align 8; .global fromhost; fromhost: .word 0; .word 0;         \
        .popsection;                                                    \
        .align 8; .global begin_regstate; begin_regstate:               \
        .word 128;                                                      \
        .align 8; .global end_regstate; end_regstate:                   \
        .word 4;

/* One store of 1 to tohost ends the run (the core system halts on it, Spike's HTIF exits). */
#define RVMODEL_HALT                                                    \
        fence;                                                          \
        li x1, 1;                                                       \
1:      la t2, tohost;                                                  \
        sw x1, 0(t2);                                                   \
        j 1b;

#define RVMODEL_BOOT

#define RVMODEL_DATA_BEGIN                                              \
        RVMODEL_DATA_SECTION                                            \
        .align 4;                                                       \
        .global begin_signature; begin_signature:

#define RVMODEL_DATA_END                                                \
        .align 4;                                                       \
        .global end_signature; end_signature:

#define RVMODEL_IO_INIT
#define RVMODEL_IO_WRITE_STR(_R, _STR)
#define RVMODEL_IO_CHECK()
#define RVMODEL_IO_ASSERT_GPR_EQ(_S, _R, _I)
#define RVMODEL_IO_ASSERT_SFPR_EQ(_F, _R, _I)
#define RVMODEL_IO_ASSERT_DFPR_EQ(_D, _R, _I)

#define RVMODEL_SET_MSW_INT
#define RVMODEL_CLEAR_MSW_INT
#define RVMODEL_CLEAR_MTIMER_INT
#define RVMODEL_CLEAR_MEXT_INT

#endif
