/* C = A * B for 16x16 signed 8-bit inputs with 32-bit accumulation (the IMC tile's arithmetic,
 * done by the core). Signature: C, row-major. */
#include "pj.h"

#ifndef N
#error "N is set by sim/firmware.py (PROGRAMS)"
#endif
#ifndef SEED
#error "SEED is set by sim/firmware.py (PROGRAMS)"
#endif


static int8_t A[N][N], B[N][N];
PJ_SIGNATURE(C, N * N);

int main(void)
{
    uint32_t state = SEED;
    for (int i = 0; i < N; i++)
        for (int j = 0; j < N; j++)
            A[i][j] = (int8_t)pj_xorshift32(&state);
    for (int i = 0; i < N; i++)
        for (int j = 0; j < N; j++)
            B[i][j] = (int8_t)pj_xorshift32(&state);
    uint64_t c0 = pj_rdcycle(), i0 = pj_rdinstret();
    for (int i = 0; i < N; i++)
        for (int j = 0; j < N; j++) {
            int32_t acc = 0;
            for (int k = 0; k < N; k++)
                acc += (int32_t)A[i][k] * B[k][j];
            C[i * N + j] = (uint32_t)acc;
        }
    pj_report("matmul", pj_rdcycle() - c0, pj_rdinstret() - i0);
    return 0;
}
