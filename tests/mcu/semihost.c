/*
 * semihost.c: Arm semihosting calls (semihost.h). A call is `bkpt 0xAB` with
 * the operation in r0 and its argument in r1, on every M-profile core.
 */
#include "semihost.h"

#include <stdint.h>

#define SYS_WRITE0 0x04
#define SYS_EXIT 0x18
#define SYS_EXIT_EXTENDED 0x20
#define ADP_STOPPED_APPLICATION_EXIT 0x20026u

static int sh_call(int op, const void *arg)
{
    register int r0 __asm__("r0") = op;
    register const void *r1 __asm__("r1") = arg;
    __asm__ volatile("bkpt 0xab" : "+r"(r0) : "r"(r1) : "memory");
    return r0;
}

void sh_puts(const char *s) { sh_call(SYS_WRITE0, s); }

void sh_exit(int status)
{
    /* EXIT_EXTENDED carries the status; plain EXIT only says "success"
     * (qemu exits 0) or anything else (qemu exits 1). */
    uint32_t block[2] = {ADP_STOPPED_APPLICATION_EXIT, (uint32_t)status};
    sh_call(SYS_EXIT_EXTENDED, block);
    sh_call(SYS_EXIT, (const void *)(uintptr_t)(status == 0 ? ADP_STOPPED_APPLICATION_EXIT : 0u));
    for (;;) {
    }
}
