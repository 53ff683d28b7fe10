/*
 * semihost.h: output and exit for the MCU test images through Arm
 * semihosting (qemu -semihosting-config enable=on,target=native): the
 * debugger-call that needs no UART driver and gives qemu an exit status.
 */
#ifndef EOTA_MCU_SEMIHOST_H
#define EOTA_MCU_SEMIHOST_H

/* Write a NUL-terminated string to the host's stdout. */
void sh_puts(const char *s);
/* End the emulation with this exit status. */
void sh_exit(int status) __attribute__((noreturn));

#endif
