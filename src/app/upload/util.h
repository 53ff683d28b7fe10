/*
 * util.h: small helpers every part of `eota upload` uses: allocation that
 * ends the command on out of memory (exit 2, as a usage error: nothing
 * was uploaded), the monotonic clock, byte counts in words, trimming.
 */
#ifndef EOTA_APP_UPLOAD_UTIL_H
#define EOTA_APP_UPLOAD_UTIL_H

#include <stddef.h>
#include <stdint.h>

uint64_t up_now_ms(void); /* monotonic milliseconds */

void *up_xcalloc(size_t n, size_t size);
void *up_xrealloc(void *p, size_t n, size_t size); /* n elements of size */
char *up_xstrdup(const char *s);

/* "512 B", "1.5 KiB", "4.0 MiB" */
void up_human_bytes(char *out, size_t outlen, uint64_t n);

/* Cut white space off both ends, in place; returns the first non-space. */
char *up_trim(char *s);

#endif
