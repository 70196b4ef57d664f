/* SoC smoke test: console, GPIO, UART loopback (the bench ties tx to rx), the machine timer
 * interrupt, the accelerators' INFO registers, and bus errors: loads and stores to unmapped
 * addresses, past a register block's last register, and a sub-word store to a register must
 * each trap as an access fault with mtval = the address; one product of each stream accelerator
 * (IMC tile, fp8 multipliers) through its DMA or PIO block. Prints one line per check; the test
 * (tb/test_soc.py) compares the trap lines with hdl/riscv/isa.py's causes. */
#include "soc_drv.h"
#include "demo.h"

#define SMOKE_SEED 0x1234567u         /* printed: tb/test_soc.py regenerates the operands */
#define SMOKE_MUL_WORDS 8

static volatile uint32_t trap_cause, trap_tval, trap_count, timer_hits;

void pj_trap(uint32_t mcause, uint32_t mepc, uint32_t mtval)
{
    if (mcause == 0x80000007u) {               /* machine timer interrupt */
        timer_hits++;
        PJ_TIMER_MTIMECMPH = 0xffffffffu;
        PJ_TIMER_MTIMECMP = 0xffffffffu;
        return;
    }
    if (mcause == 5 || mcause == 7) {          /* load / store access fault: skip it */
        trap_cause = mcause;
        trap_tval = mtval;
        trap_count++;
        __asm__ volatile ("csrw mepc, %0" :: "r"(mepc + 4));
        return;
    }
    pj_puts("unexpected trap ");
    pj_put_hex(mcause);
    pj_putc(' ');
    pj_put_hex(mepc);
    pj_putc('\n');
    pj_exit(PJ_EXIT_TRAP + (int)(mcause & 0x3f));
}

static int fails;

static void check(const char *what, int ok)
{
    pj_puts(ok ? "ok   " : "FAIL ");
    pj_puts(what);
    pj_putc('\n');
    fails += !ok;
}

static void probe_load(uint32_t addr)
{
    uint32_t before = trap_count;
    (void)*(volatile uint32_t *)addr;
    pj_puts("trap load ");
    pj_put_hex(addr);
    pj_putc(' ');
    pj_put_dec(trap_count - before);
    pj_putc(' ');
    pj_put_dec(trap_cause);
    pj_putc(' ');
    pj_put_hex(trap_tval);
    pj_putc('\n');
}

static void probe_store(uint32_t addr, int byte)
{
    uint32_t before = trap_count;
    if (byte)
        *(volatile uint8_t *)addr = 1;
    else
        *(volatile uint32_t *)addr = 0;
    pj_puts("trap store ");
    pj_put_hex(addr);
    pj_putc(' ');
    pj_put_dec(trap_count - before);
    pj_putc(' ');
    pj_put_dec(trap_cause);
    pj_putc(' ');
    pj_put_hex(trap_tval);
    pj_putc('\n');
}

int main(void)
{
    pj_puts("smoke\n");
    PJ_GPIO_OUT = 0xa5;
    check("gpio out reads back", (PJ_GPIO_OUT & PJ_GPIO_OUT_LEDS_MASK) == 0xa5);
    pj_puts("buttons ");
    pj_put_hex(PJ_GPIO_IN);
    pj_putc('\n');

    /* UART loopback: drain what the console echoed, clear overrun, send one byte. */
    while (PJ_UART_STATUS & PJ_UART_STATUS_TX_BUSY_MASK)
        ;
    for (int i = 0; i < 1000; i++)
        (void)PJ_UART_RX;
    (void)PJ_UART_STATUS;
    PJ_UART_TX = 0x5a;
    uint32_t rx = 0;
    for (int i = 0; i < 20000 && !(rx & PJ_UART_RX_VALID_MASK); i++)
        rx = PJ_UART_RX;
    check("uart loopback byte", (rx & PJ_UART_RX_VALID_MASK) && PJ_FIELD(rx, PJ_UART_RX, DATA)
                                == 0x5a);

    /* Timer interrupt 300 clocks from now. */
    uint32_t now = PJ_TIMER_MTIME;
    PJ_TIMER_MTIMECMPH = 0;
    PJ_TIMER_MTIMECMP = now + 300;
    __asm__ volatile ("csrs mie, %0" :: "r"(1u << 7));
    __asm__ volatile ("csrs mstatus, %0" :: "r"(1u << 3));
    for (int i = 0; i < 2000 && !timer_hits; i++)
        ;
    __asm__ volatile ("csrc mstatus, %0" :: "r"(1u << 3));
    check("timer interrupt", timer_hits == 1);

#if PJ_HAVE_IMC
    check("imc info cols", PJ_FIELD(PJ_IMC_INFO, PJ_IMC_INFO, COLS) == PJ_IMC_COLS);
#endif
#if PJ_HAVE_DOT
    check("dot info lanes", PJ_FIELD(PJ_DOT_INFO, PJ_DOT_INFO, LANES) == PJ_DOT_LANES);
#endif
#if PJ_HAVE_ONN
    check("onn info n", PJ_FIELD(PJ_ONN_INFO, PJ_ONN_INFO, N) == PJ_ONN_N);
#endif

    /* Operations an accelerator cannot run set its sticky error bits (printed, then cleared). */
#if PJ_HAVE_IMC
    PJ_IMC_CTRL = PJ_IMC_CTRL_A_BITS_MASK;                   /* more bits than the tile has */
    demo_kv("err_imc_abits", PJ_FIELD(PJ_IMC_STATUS, PJ_IMC_STATUS, CAUSE));
    PJ_IMC_CMD = PJ_IMC_CMD_CLEAR_MASK;
#if PJ_HAVE_DMA
    static uint32_t buf[PJ_IMC_IN_WORDS + 1];
    demo_kv("err_dma_align", pj_dma(PJ_IMC_DMA_BASE, (const char *)buf + 2, PJ_IMC_IN_WORDS,
                                    buf, PJ_IMC_OUT_WORDS));
    demo_kv("err_dma_bus", pj_dma(PJ_IMC_DMA_BASE, (const void *)0x20000000u, PJ_IMC_IN_WORDS,
                                  buf, PJ_IMC_OUT_WORDS));
#else
    (void)PJ_REG(PJ_IMC_PIO_BASE, PJ_PIO_POP_OFFSET);         /* nothing to pop */
    demo_kv("err_pio_empty", PJ_FIELD(PJ_REG(PJ_IMC_PIO_BASE, PJ_PIO_STATUS_OFFSET),
                                      PJ_PIO_STATUS, CAUSE));
    PJ_REG(PJ_IMC_PIO_BASE, PJ_PIO_CMD_OFFSET) = PJ_PIO_CMD_CLEAR_MASK;
#endif
    check("imc clean after errors", !(PJ_IMC_STATUS & PJ_IMC_STATUS_ERROR_MASK));
#endif
#if PJ_HAVE_MUL && !PJ_HAVE_DMA
    {   /* a, b: the multiplier holds the pair until its product is popped, so a third word
         * finds no room: dropped, cause FULL. Popping the product puts the unit back in step. */
        uintptr_t mb = PJ_MUL_PIO_BASE;
        for (int i = 0; i < 3; i++)
            PJ_REG(mb, PJ_PIO_PUSH_OFFSET) = 0x38383838u;
        demo_kv("err_pio_full", PJ_FIELD(PJ_REG(mb, PJ_PIO_STATUS_OFFSET), PJ_PIO_STATUS,
                                         CAUSE));
        PJ_REG(mb, PJ_PIO_CMD_OFFSET) = PJ_PIO_CMD_CLEAR_MASK;
        uint32_t junk;
        (void)pj_pio(mb, 0, 0, &junk, 1);
    }
#endif
#if PJ_HAVE_DOT
    PJ_DOT_CTRL = 0;                                          /* a vector of zero chunks */
    demo_kv("err_dot_chunks", PJ_FIELD(PJ_DOT_STATUS, PJ_DOT_STATUS, CAUSE));
    PJ_DOT_CMD = PJ_DOT_CMD_CLEAR_MASK;
#endif
#if PJ_HAVE_ONN
    PJ_ONN_CONFIG = PJ_ONN_CONFIG_MODE_MASK;                  /* mode 3: not a Mode */
    demo_kv("err_onn_mode", PJ_FIELD(PJ_ONN_STATUS, PJ_ONN_STATUS, CAUSE));
    PJ_ONN_CMD = PJ_ONN_CMD_CLEAR_MASK;
#endif

    /* Each stream accelerator computes once through its DMA or PIO: operands from
     * pj_xorshift32 (SMOKE_SEED), printed results; tb/test_soc.py recomputes them with the
     * units' golden models (sim/imc.py, sim/lmul.py) from the same generator. */
    uint32_t seed = SMOKE_SEED;
    demo_kx("smoke_seed", seed);
#if PJ_HAVE_IMC && PJ_IMC_W_BITS == 8 && PJ_IMC_A_BITS == 8
    {
        static int8_t w[PJ_IMC_ROWS * PJ_IMC_COLS];
        static uint32_t x[PJ_IMC_IN_WORDS], y[PJ_IMC_OUT_WORDS];
        for (int i = 0; i < PJ_IMC_ROWS * PJ_IMC_COLS; i++)
            w[i] = (int8_t)pj_xorshift32(&seed);
        for (int i = 0; i < PJ_IMC_IN_WORDS; i++)
            x[i] = pj_xorshift32(&seed);
        PJ_IMC_CTRL = (uint32_t)PJ_IMC_A_BITS << PJ_IMC_CTRL_A_BITS_SHIFT;
        uint32_t e = pj_imc_load(w, PJ_IMC_ROWS, PJ_IMC_COLS, PJ_IMC_COLS);
        e |= pj_xfer(IMC, x, PJ_IMC_IN_WORDS, y, PJ_IMC_OUT_WORDS) << 8;
        demo_kv("imc_err", e);
        pj_puts("imc_y");
        for (int c = 0; c < PJ_IMC_OUT_WORDS; c++) {
            pj_putc(' ');
            pj_put_hex(y[c]);
        }
        pj_putc('\n');
    }
#endif
#if PJ_HAVE_MUL
    for (int i = 0; i < SMOKE_MUL_WORDS; i++) {
        uint32_t ab[2], prod = 0;
        ab[0] = pj_xorshift32(&seed);
        ab[1] = pj_xorshift32(&seed);
        uint32_t e = pj_xfer(MUL, ab, 2, &prod, 1);
        pj_puts("mul ");
        pj_put_hex(ab[0]);
        pj_putc(' ');
        pj_put_hex(ab[1]);
        pj_putc(' ');
        pj_put_hex(prod);
        pj_putc(' ');
        pj_put_dec(e);
        pj_putc('\n');
    }
#endif
    (void)seed;

    probe_load(0x20000000u);                                  /* no region */
    probe_store(0x00000000u, 0);                              /* no region */
    probe_load(PJ_UART_BASE + 4 * 16);                        /* past the UART's registers */
    probe_store(PJ_GPIO_BASE + PJ_GPIO_OUT_OFFSET, 1);        /* byte store to a register */
    probe_load(PJ_RAM_BASE + PJ_SOC_RAM_SIZE);                /* past the end of RAM */
    pj_puts(fails ? "smoke: FAIL\n" : "smoke: done\n");
    return fails;
}
