/*
 * test_transport.c: the fd transport of the POSIX port
 * (src/port/posix/transport.c) over real socketpairs, pipes and TCP: would
 * block, no SIGPIPE, an orderly close against a reset.
 */
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "eota/posix.h"

static void sleep_ms(unsigned ms)
{
    struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

static volatile sig_atomic_t sigpipe_count;

static void on_sigpipe(int sig)
{
    (void)sig;
    sigpipe_count++;
}

/* A handler that counts, rather than SIG_IGN: a SIGPIPE would be seen. */
static void catch_sigpipe(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigpipe;
    sigemptyset(&sa.sa_mask);
    assert_int_equal(sigaction(SIGPIPE, &sa, NULL), 0);
    sigpipe_count = 0;
}

static void make_pair(eota_posix_conn *a, eota_posix_conn *b)
{
    int sv[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    assert_int_equal(eota_posix_set_nonblocking(sv[0]), EOTA_OK);
    assert_int_equal(eota_posix_set_nonblocking(sv[1]), EOTA_OK);
    a->fd = sv[0];
    b->fd = sv[1];
}


static void test_transport_socketpair(void **state)
{
    const eota_transport_ops *t = &eota_posix_transport;
    eota_posix_conn a, b;
    uint8_t buf[64];
    long n;

    (void)state;
    make_pair(&a, &b);

    /* nothing there yet */
    assert_int_equal(t->read(&a, buf, sizeof buf), EOTA_AGAIN);
    assert_int_equal(t->read(&a, buf, 0), 0);

    n = t->write(&b, (const uint8_t *)"hello", 5);
    assert_int_equal(n, 5);
    n = t->read(&a, buf, 3);
    assert_int_equal(n, 3);
    assert_memory_equal(buf, "hel", 3);
    n = t->read(&a, buf, sizeof buf);
    assert_int_equal(n, 2);
    assert_memory_equal(buf, "lo", 2);
    assert_int_equal(t->read(&a, buf, sizeof buf), EOTA_AGAIN);

    /* peer close: the data still queued first, then CLOSED, every time */
    assert_int_equal(t->write(&b, (const uint8_t *)"xy", 2), 2);
    t->close(&b);
    assert_int_equal(b.fd, -1);
    t->close(&b); /* twice is harmless */
    n = t->read(&a, buf, sizeof buf);
    assert_int_equal(n, 2);
    assert_int_equal(t->read(&a, buf, sizeof buf), EOTA_CLOSED);
    assert_int_equal(t->read(&a, buf, sizeof buf), EOTA_CLOSED);

    /* on the closed struct itself: an error, never a touch of fd -1 */
    assert_int_equal(t->read(&b, buf, sizeof buf), EOTA_EIO);
    assert_int_equal(t->write(&b, buf, 1), EOTA_EIO);
    t->close(&a);
    assert_int_equal(a.fd, -1);
}

static void test_transport_write_would_block(void **state)
{
    const eota_transport_ops *t = &eota_posix_transport;
    eota_posix_conn a, b;
    static uint8_t chunk[65536];
    size_t total = 0;
    long n;
    int rounds = 0;

    (void)state;
    make_pair(&a, &b);
    memset(chunk, 0x5a, sizeof chunk);
    /* fill the socket buffers until the kernel takes no more */
    for (;;) {
        n = t->write(&a, chunk, sizeof chunk);
        if (n == EOTA_AGAIN)
            break;
        assert_true(n > 0);
        total += (size_t)n;
        assert_true(++rounds < 100000);
    }
    assert_true(total > 0);
    /* drain some: writable again */
    n = t->read(&b, chunk, sizeof chunk);
    assert_true(n > 0);
    t->close(&a);
    t->close(&b);
}

static void test_transport_no_sigpipe_socket(void **state)
{
    const eota_transport_ops *t = &eota_posix_transport;
    eota_posix_conn a, b;
    long n;
    int i;

    (void)state;
    catch_sigpipe();
    make_pair(&a, &b);
    t->close(&b);
    /* the first write may still be accepted on some stacks; within a few
     * tries the closed peer must be reported, never as a signal */
    n = 0;
    for (i = 0; i < 4; i++) {
        n = t->write(&a, (const uint8_t *)"data", 4);
        if (n < 0)
            break;
    }
    assert_true(n == EOTA_CLOSED || n == EOTA_EIO);
    assert_int_equal(sigpipe_count, 0);
    t->close(&a);
    signal(SIGPIPE, SIG_DFL);
}

static void test_transport_no_sigpipe_pipe(void **state)
{
    const eota_transport_ops *t = &eota_posix_transport;
    int p[2];
    eota_posix_conn r, w;
    uint8_t buf[8];
    sigset_t pending;

    (void)state;
    catch_sigpipe();
    assert_int_equal(pipe(p), 0);
    r.fd = p[0];
    w.fd = p[1];
    assert_int_equal(eota_posix_set_nonblocking(r.fd), EOTA_OK);
    assert_int_equal(eota_posix_set_nonblocking(w.fd), EOTA_OK);

    /* a pipe is not a socket: the write path falls back to write(2) */
    assert_int_equal(t->read(&r, buf, sizeof buf), EOTA_AGAIN);
    assert_int_equal(t->write(&w, (const uint8_t *)"ok", 2), 2);
    assert_int_equal(t->read(&r, buf, sizeof buf), 2);
    assert_memory_equal(buf, "ok", 2);

    t->close(&r);
    assert_int_equal(t->write(&w, (const uint8_t *)"lost", 4), EOTA_CLOSED);
    assert_int_equal(sigpipe_count, 0);
    /* and no SIGPIPE left pending to strike later */
    sigemptyset(&pending);
    assert_int_equal(sigpending(&pending), 0);
    assert_int_equal(sigismember(&pending, SIGPIPE), 0);

    /* the writer sees end of stream when its peer closes */
    assert_int_equal(pipe(p), 0);
    r.fd = p[0];
    close(p[1]);
    assert_int_equal(t->read(&r, buf, sizeof buf), EOTA_CLOSED);
    t->close(&r);
    t->close(&w);
    signal(SIGPIPE, SIG_DFL);
}

/* A TCP reset (close with SO_LINGER 0) is an I/O error, not an orderly
 * close. */
static void test_transport_tcp_reset(void **state)
{
    const eota_transport_ops *t = &eota_posix_transport;
    struct sockaddr_in addr;
    socklen_t alen = sizeof addr;
    struct linger lg = {1, 0};
    int lfd, cfd, sfd;
    eota_posix_conn c;
    uint8_t buf[16];
    long n = EOTA_AGAIN;

    (void)state;
    lfd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(lfd >= 0);
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    assert_int_equal(bind(lfd, (struct sockaddr *)&addr, sizeof addr), 0);
    assert_int_equal(listen(lfd, 1), 0);
    assert_int_equal(getsockname(lfd, (struct sockaddr *)&addr, &alen), 0);
    cfd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(cfd >= 0);
    assert_int_equal(connect(cfd, (struct sockaddr *)&addr, sizeof addr), 0);
    sfd = accept(lfd, NULL, NULL);
    assert_true(sfd >= 0);
    close(lfd);

    assert_int_equal(setsockopt(sfd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg), 0);
    close(sfd);
    c.fd = cfd;
    assert_int_equal(eota_posix_set_nonblocking(c.fd), EOTA_OK);
    for (int i = 0; i < 200 && n == EOTA_AGAIN; i++) {
        n = t->read(&c, buf, sizeof buf);
        if (n == EOTA_AGAIN)
            sleep_ms(5);
    }
    assert_int_equal(n, EOTA_EIO);
    t->close(&c);
}

static void test_set_nonblocking_bad_fd(void **state)
{
    (void)state;
    assert_int_equal(eota_posix_set_nonblocking(-1), EOTA_EIO);
    assert_int_equal(eota_posix_set_nonblocking(987654), EOTA_EIO);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_transport_socketpair),
        cmocka_unit_test(test_transport_write_would_block),
        cmocka_unit_test(test_transport_no_sigpipe_socket),
        cmocka_unit_test(test_transport_no_sigpipe_pipe),
        cmocka_unit_test(test_transport_tcp_reset),
        cmocka_unit_test(test_set_nonblocking_bad_fd),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
