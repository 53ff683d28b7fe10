/*
 * sys.c: the random seam over getrandom(2) and the clock seam over
 * CLOCK_MONOTONIC, for Linux.
 */
#include "eota/posix.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "eota/status.h"

/* Only for a kernel without getrandom (before 3.17, or a seccomp filter
 * that hides it): the same CSPRNG through the device file. */
static int urandom_fill(uint8_t *buf, size_t len)
{
    int fd;
    size_t got = 0;

    do {
        fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
    } while (fd < 0 && errno == EINTR);
    if (fd < 0)
        return EOTA_ECRYPTO;
    while (got < len) {
        ssize_t n = read(fd, buf + got, len - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            close(fd);
            return EOTA_ECRYPTO;
        }
        got += (size_t)n;
    }
    close(fd);
    return EOTA_OK;
}

static int posix_random_fill(void *ctx, uint8_t *buf, size_t len)
{
    size_t got = 0;

    (void)ctx;
    if (buf == NULL && len > 0)
        return EOTA_EINVAL;
    /* getrandom may return fewer bytes than asked (large requests, or a
     * signal after the first 256 bytes): loop until all are there. */
    while (got < len) {
        ssize_t n = getrandom(buf + got, len - got, 0);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno == ENOSYS)
                return urandom_fill(buf + got, len - got);
            return EOTA_ECRYPTO;
        }
        got += (size_t)n;
    }
    return EOTA_OK;
}

eota_random eota_posix_random(void)
{
    eota_random r = {posix_random_fill, NULL};
    return r;
}

uint64_t eota_posix_now_ms64(void)
{
    struct timespec ts;

    /* CLOCK_MONOTONIC cannot fail on Linux with a valid pointer. */
    (void)clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Truncation is the wrap-around the seam documents: the engines only
 * subtract two readings. */
static uint32_t posix_now_ms(void *ctx)
{
    (void)ctx;
    return (uint32_t)eota_posix_now_ms64();
}

eota_clock eota_posix_clock(void)
{
    eota_clock c = {posix_now_ms, NULL};
    return c;
}
