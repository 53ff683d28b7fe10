/*
 * transport.c: the transport seam over a non-blocking file descriptor (a
 * TCP socket, or a pipe/socketpair in tests). It maps errno onto the
 * statuses of eota/status.h and never lets a write to a closed peer raise
 * SIGPIPE, so an integrator need not touch the process's signal handling.
 */
#include "eota/posix.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "eota/status.h"

/* read/write return ssize_t and the seam returns long: never ask for more
 * than both can count. */
#define IO_MAX ((size_t)(LONG_MAX < SSIZE_MAX ? LONG_MAX : SSIZE_MAX))

static long map_errno(int err)
{
    switch (err) {
    case EAGAIN:
#if defined(EWOULDBLOCK) && EWOULDBLOCK != EAGAIN
    case EWOULDBLOCK:
#endif
        return EOTA_AGAIN;
    case EPIPE:
        /* The peer shut its reading side (or closed) */
        return EOTA_CLOSED;
    default:
        /* ECONNRESET, ETIMEDOUT, EHOSTUNREACH, EBADF, ... */
        return EOTA_EIO;
    }
}

/* The checks both directions make: EOTA_EIO for a dead or missing
 * descriptor (the seam documents only AGAIN/CLOSED/EIO as failures), 0 for
 * nothing to do, else 1 with *len capped to one call's worth. */
static int io_args(const eota_posix_conn *c, const void *buf, size_t *len)
{
    if (c == NULL || c->fd < 0 || (buf == NULL && *len > 0))
        return EOTA_EIO;
    if (*len > IO_MAX)
        *len = IO_MAX;
    return *len > 0;
}

static long posix_read(void *conn, uint8_t *buf, size_t len)
{
    eota_posix_conn *c = conn;

    int ok = io_args(c, buf, &len);
    if (ok <= 0)
        return ok;
    for (;;) {
        ssize_t n = read(c->fd, buf, len);
        if (n > 0)
            return (long)n;
        if (n == 0)
            return EOTA_CLOSED;
        if (errno == EINTR)
            continue;
        return map_errno(errno);
    }
}

/* write(2) on a pipe whose reader is gone raises SIGPIPE, and pipes have no
 * MSG_NOSIGNAL: block the signal in this thread for the call, and swallow
 * the one the call raised (but not one that was already pending). */
static ssize_t write_nosigpipe(int fd, const uint8_t *buf, size_t len)
{
    sigset_t pipe_set, old_set, pending;
    ssize_t n;
    int err;
    int was_pending;

    sigemptyset(&pipe_set);
    sigaddset(&pipe_set, SIGPIPE);
    sigemptyset(&pending);
    (void)sigpending(&pending);
    was_pending = sigismember(&pending, SIGPIPE) == 1;
    if (pthread_sigmask(SIG_BLOCK, &pipe_set, &old_set) != 0)
        return write(fd, buf, len);

    do {
        n = write(fd, buf, len);
    } while (n < 0 && errno == EINTR);
    err = errno;

    if (n < 0 && err == EPIPE && !was_pending) {
        static const struct timespec zero = {0, 0};
        int r;
        do {
            r = sigtimedwait(&pipe_set, NULL, &zero);
        } while (r < 0 && errno == EINTR);
    }
    (void)pthread_sigmask(SIG_SETMASK, &old_set, NULL);
    errno = err;
    return n;
}

static long posix_write(void *conn, const uint8_t *buf, size_t len)
{
    eota_posix_conn *c = conn;
    ssize_t n;

    int ok = io_args(c, buf, &len);
    if (ok <= 0)
        return ok;
    do {
        /* MSG_DONTWAIT too: the seam must never block, even when the
         * integrator forgot eota_posix_set_nonblocking. */
        n = send(c->fd, buf, len, MSG_NOSIGNAL | MSG_DONTWAIT);
    } while (n < 0 && errno == EINTR);
    if (n < 0 && errno == ENOTSOCK)
        n = write_nosigpipe(c->fd, buf, len);
    if (n > 0)
        return (long)n;
    if (n == 0)
        return EOTA_AGAIN; /* nothing taken, no error: try again later */
    return map_errno(errno);
}

static void posix_close(void *conn)
{
    eota_posix_conn *c = conn;

    if (c == NULL || c->fd < 0)
        return;
    /* Linux releases the descriptor even when close reports EINTR: never
     * retry, another thread may already own the number. */
    (void)close(c->fd);
    c->fd = -1;
}

const eota_transport_ops eota_posix_transport = {
    .read = posix_read,
    .write = posix_write,
    .close = posix_close,
};

int eota_posix_set_nonblocking(int fd)
{
    int flags;

    if (fd < 0)
        return EOTA_EIO;
    flags = fcntl(fd, F_GETFL);
    if (flags < 0)
        return EOTA_EIO;
    if ((flags & O_NONBLOCK) != 0)
        return EOTA_OK;
    if (fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0)
        return EOTA_EIO;
    return EOTA_OK;
}
