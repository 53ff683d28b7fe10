/*
 * startup.c: the reset path of the MCU test images: the vector table, a
 * reset handler that copies .data, clears .bss and runs main(), and a fault
 * handler that reports and exits (a fault must fail the run, not hang it).
 * ARMv6-M code (built with -mcpu=cortex-m0plus), so it also runs on the
 * ARMv7-M core that qemu emulates (mps2_an385.ld).
 */
#include <stdint.h>
#include <string.h>

#include "semihost.h"

extern uint32_t __data_load, __data_start, __data_end, __bss_start, __bss_end, __stack_top;

int main(void);

void reset_handler(void);

void reset_handler(void)
{
    memcpy(&__data_start, &__data_load, (size_t)((char *)&__data_end - (char *)&__data_start));
    memset(&__bss_start, 0, (size_t)((char *)&__bss_end - (char *)&__bss_start));
    sh_exit(main());
}

static void fault_handler(void)
{
    sh_puts("FAULT: the core took an exception (HardFault, NMI or an unexpected interrupt)\n");
    sh_exit(3);
}

/* Initial stack pointer, then the handlers: reset, NMI, HardFault, and the
 * rest of the 16 system vectors. */
__attribute__((section(".vectors"), used)) static const void *const vectors[16] = {
    &__stack_top,  (const void *)reset_handler, (const void *)fault_handler, (const void *)fault_handler,
    (const void *)fault_handler, (const void *)fault_handler, (const void *)fault_handler, 0,
    0, 0, 0, (const void *)fault_handler,
    (const void *)fault_handler, 0, (const void *)fault_handler, (const void *)fault_handler,
};
