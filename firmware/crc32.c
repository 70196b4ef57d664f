/* CRC-32 (IEEE 802.3, reflected, polynomial 0xEDB88320), table-driven, over a pseudo-random
 * buffer. Signature: CRC of "123456789", CRC of the buffer, buffer length. */
#include "pj.h"

#ifndef LEN
#error "LEN is set by sim/firmware.py (PROGRAMS)"
#endif
#ifndef SEED
#error "SEED is set by sim/firmware.py (PROGRAMS)"
#endif


static uint32_t table[256];
static uint8_t buf[LEN];
PJ_SIGNATURE(result, 4);

static void make_table(void)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++)
            c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        table[i] = c;
    }
}

static uint32_t crc32(const uint8_t *p, size_t n)
{
    uint32_t c = 0xFFFFFFFFu;
    while (n--)
        c = table[(c ^ *p++) & 0xFF] ^ (c >> 8);
    return ~c;
}

int main(void)
{
    uint64_t c0 = pj_rdcycle(), i0 = pj_rdinstret();
    uint32_t state = SEED;
    for (int i = 0; i < LEN; i++)
        buf[i] = (uint8_t)pj_xorshift32(&state);
    make_table();
    uint32_t check = crc32((const uint8_t *)"123456789", 9);
    uint32_t crc = crc32(buf, LEN);
    pj_report("crc32", pj_rdcycle() - c0, pj_rdinstret() - i0);
    result[0] = check;
    result[1] = crc;
    result[2] = LEN;
    /* The standard check value of CRC-32: catches a broken table or loop without the host. */
    return check == 0xCBF43926u ? 0 : 1;
}
