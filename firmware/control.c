/* The control loop of an accelerator driver: program a job's registers, start it, poll the
 * status register until done, read the result, acknowledge, next job.
 *
 * The accelerator is a register block in RAM advanced by a software model (device_tick) called
 * from the poll loop, so the program runs on any core; the driver side is what an IMC driver
 * does. A job is a dot product of LEN signed bytes with the weight row picked by ROW; the
 * device takes LEN / 4 + 3 ticks. Signature: each job's result, then the total poll count. */
#include "pj.h"

#ifndef JOBS
#error "JOBS is set by sim/firmware.py (PROGRAMS)"
#endif
#ifndef LEN
#error "LEN is set by sim/firmware.py (PROGRAMS)"
#endif
#ifndef ROWS
#error "ROWS is set by sim/firmware.py (PROGRAMS)"
#endif
#ifndef SEED
#error "SEED is set by sim/firmware.py (PROGRAMS)"
#endif


enum { CTRL_START = 1u << 0, STATUS_BUSY = 1u << 0, STATUS_DONE = 1u << 1,
       STATUS_ERROR = 1u << 2 };

struct acc_regs {
    volatile uint32_t ctrl, status, src, len, row, result;
};

static struct acc_regs dev;
static uint32_t dev_ticks;
static int8_t weights[ROWS][LEN];
static int8_t inputs[JOBS][LEN];
PJ_SIGNATURE(result, JOBS + 1);

static void device_tick(struct acc_regs *d)
{
    if (d->ctrl & CTRL_START) {
        d->ctrl = 0;
        if (d->row >= ROWS || d->len > LEN) {
            d->status = STATUS_ERROR | STATUS_DONE;
            return;
        }
        d->status = STATUS_BUSY;
        dev_ticks = d->len / 4 + 3;
    } else if (d->status & STATUS_BUSY && --dev_ticks == 0) {
        const int8_t *x = (const int8_t *)(uintptr_t)d->src;
        int32_t acc = 0;
        for (uint32_t k = 0; k < d->len; k++)
            acc += x[k] * weights[d->row][k];
        d->result = (uint32_t)acc;
        d->status = STATUS_DONE;
    }
}

int main(void)
{
    uint32_t state = SEED;
    for (int r = 0; r < ROWS; r++)
        for (int k = 0; k < LEN; k++)
            weights[r][k] = (int8_t)pj_xorshift32(&state);
    for (int j = 0; j < JOBS; j++)
        for (int k = 0; k < LEN; k++)
            inputs[j][k] = (int8_t)pj_xorshift32(&state);
    uint64_t c0 = pj_rdcycle(), i0 = pj_rdinstret();
    uint32_t polls = 0;
    for (int j = 0; j < JOBS; j++) {
        dev.src = (uint32_t)(uintptr_t)inputs[j];
        dev.len = LEN;
        dev.row = (uint32_t)j % ROWS;
        dev.ctrl = CTRL_START;
        while (!(dev.status & STATUS_DONE)) {
            device_tick(&dev);
            polls++;
        }
        if (dev.status & STATUS_ERROR)
            return 1 + j;
        result[j] = dev.result;
        dev.status = 0;     /* acknowledge */
    }
    result[JOBS] = polls;
    pj_report("control", pj_rdcycle() - c0, pj_rdinstret() - i0);
    return 0;
}
