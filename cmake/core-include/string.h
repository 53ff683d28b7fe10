/*
 * string.h for the core: the only libc header src/core may include
 * (shared/ARCHITECTURE.md), declared here so that the core compiles without
 * any of the system's headers (-nostdinc: cmake/core.cmake, scripts/size.sh),
 * as on a bare-metal toolchain with no C library. A board's SDK or libc
 * supplies the functions at link time.
 */
#ifndef EOTA_CORE_STRING_H
#define EOTA_CORE_STRING_H
#include <stddef.h>
void *memcpy(void *restrict dst, const void *restrict src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);
void *memchr(const void *s, int c, size_t n);
size_t strlen(const char *s);
size_t strnlen(const char *s, size_t n);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);
char *strchr(const char *s, int c);
char *strrchr(const char *s, int c);
#endif
