/*
 * native_conn.c: the connection under a native upload's engine: the POSIX
 * socket seam, keeping errno of a failure (so that messages can say
 * "connection reset" rather than "I/O error"), and, for encrypted runs, a
 * cork: the engine's small writes (a Noise frame is 1043 bytes at most)
 * gather in a buffer that leaves in one send when it is full and each time
 * the engine has done what it could (up_nat_conn_flush). The buffer is
 * filled to the byte (a frame may straddle two sends), so that sends of
 * 16 KiB keep the stream aligned in the kernel's buffers and the copies
 * on both ends fast. The bytes and their order are the engine's; only the
 * number of system calls changes.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "upload/transport_native.h"
#include "upload/util.h"

#define CORK_SIZE (16u * 1024u)

static long raw_write(up_nat_conn *u, const uint8_t *b, size_t n)
{
    long r = eota_posix_transport.write(&u->pc, b, n);
    if (r == EOTA_EIO)
        u->err = errno;
    return r;
}

static long conn_read(void *c, uint8_t *b, size_t n)
{
    up_nat_conn *u = c;
    long r = eota_posix_transport.read(&u->pc, b, n);
    if (r == EOTA_EIO)
        u->err = errno;
    return r;
}

long up_nat_conn_flush(up_nat_conn *u)
{
    size_t off = 0;
    long r = EOTA_OK;
    if (u->cork_len == 0)
        return EOTA_OK;
    while (off < u->cork_len) {
        long w = raw_write(u, u->cork + off, u->cork_len - off);
        if (w == EOTA_AGAIN || w == 0)
            break;
        if (w < 0) {
            r = u->cork_err = w; /* the engine's next write says so */
            off = u->cork_len;
            break;
        }
        off += (size_t)w;
    }
    memmove(u->cork, u->cork + off, u->cork_len - off);
    u->cork_len -= off;
    return r != EOTA_OK ? r : u->cork_len ? EOTA_AGAIN : EOTA_OK;
}

static long conn_write(void *c, const uint8_t *b, size_t n)
{
    up_nat_conn *u = c;
    if (!u->cork)
        return raw_write(u, b, n);
    if (u->cork_err)
        return u->cork_err;
    if (u->cork_len == CORK_SIZE) {
        long f = up_nat_conn_flush(u);
        if (f < 0)
            return f;
        if (u->cork_len > 0)
            return EOTA_AGAIN;
    }
    size_t take = n < CORK_SIZE - u->cork_len ? n : CORK_SIZE - u->cork_len;
    memcpy(u->cork + u->cork_len, b, take);
    u->cork_len += take;
    if (u->cork_len == CORK_SIZE)
        (void)up_nat_conn_flush(u); /* a failure shows at the next write */
    return (long)take;
}

static void conn_close(void *c)
{
    up_nat_conn *u = c;
    (void)up_nat_conn_flush(u); /* best effort: the final 00 is optional */
    u->cork_len = 0;
    eota_posix_transport.close(&u->pc);
}

const eota_transport_ops up_nat_conn_ops = {conn_read, conn_write, conn_close};

void up_nat_conn_open(up_nat_conn *u, int fd)
{
    u->pc.fd = fd;
    u->err = 0;
    u->cork_len = 0;
    u->cork_err = 0;
}

void up_nat_conn_cork(up_nat_conn *u)
{
    if (!u->cork)
        u->cork = up_xcalloc(1, CORK_SIZE);
}

void up_nat_conn_free(up_nat_conn *u)
{
    free(u->cork);
    u->cork = NULL;
}
