/*
 * string.h: the stand-in <string.h> of the MCU builds (the Debian bare-metal
 * toolchains ship no C library). It declares only what the core may use
 * (ARCHITECTURE.md); tests/mcu/libc_min.c defines them for the test images.
 */
#ifndef EOTA_MCU_STRING_H
#define EOTA_MCU_STRING_H

#include <stddef.h>

void *memcpy(void *restrict dst, const void *restrict src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);

#endif
