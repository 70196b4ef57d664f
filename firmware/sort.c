/* Heapsort of pseudo-random 32-bit words (unsigned order). Signature: the sorted array. */
#include "pj.h"

#ifndef N
#error "N is set by sim/firmware.py (PROGRAMS)"
#endif
#ifndef SEED
#error "SEED is set by sim/firmware.py (PROGRAMS)"
#endif


PJ_SIGNATURE(a, N);

static void sift_down(volatile uint32_t *v, unsigned root, unsigned end)
{
    uint32_t x = v[root];
    for (unsigned child; (child = 2 * root + 1) < end; root = child) {
        if (child + 1 < end && v[child + 1] > v[child])
            child++;
        if (v[child] <= x)
            break;
        v[root] = v[child];
    }
    v[root] = x;
}

int main(void)
{
    uint32_t state = SEED;
    for (int i = 0; i < N; i++)
        a[i] = pj_xorshift32(&state);
    uint64_t c0 = pj_rdcycle(), i0 = pj_rdinstret();
    for (unsigned i = N / 2; i-- > 0;)
        sift_down(a, i, N);
    for (unsigned end = N - 1; end > 0; end--) {
        uint32_t t = a[0];
        a[0] = a[end];
        a[end] = t;
        sift_down(a, 0, end);
    }
    pj_report("sort", pj_rdcycle() - c0, pj_rdinstret() - i0);
    for (int i = 1; i < N; i++)
        if (a[i - 1] > a[i])
            return 1 + i;
    return 0;
}
