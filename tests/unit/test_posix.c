/*
 * test_posix.c: the POSIX seams (src/port/posix): OpenSSL hashes against
 * known answers, getrandom, the monotonic clock, the fd transport over real
 * socketpairs, pipes and TCP, and the in-memory backend's injections.
 */
/* White-box: reads the hash's private fields (eota/private_access.h). */
#define EOTA_ALLOW_PRIVATE_ACCESS

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
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "eota/posix.h"
#include "eota/protocol.h"

/* ---------- helpers ---------- */

static void to_hex(const uint8_t *d, size_t n, char *out)
{
    static const char hx[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = hx[d[i] >> 4];
        out[2 * i + 1] = hx[d[i] & 15];
    }
    out[2 * n] = '\0';
}

static void digest_hex(eota_hash_alg alg, const void *data, size_t len, char *out)
{
    uint8_t d[32];
    assert_int_equal(eota_posix_digest(alg, data, len, d), EOTA_OK);
    to_hex(d, eota_hash_digest_len(alg), out);
}

static void seam_hex(eota_hash *h, eota_hash_alg alg, const uint8_t *data, size_t len,
                     const size_t *pieces, size_t npieces, char *out)
{
    uint8_t d[32];
    size_t off = 0, i = 0;

    assert_int_equal(h->ops->begin(h->ctx, alg), EOTA_OK);
    while (off < len) {
        size_t n = pieces[i++ % npieces];
        if (n > len - off)
            n = len - off;
        h->ops->update(h->ctx, data + off, n);
        off += n;
    }
    assert_int_equal(h->ops->finish(h->ctx, d), EOTA_OK);
    to_hex(d, eota_hash_digest_len(alg), out);
}

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

/* ---------- hashes ---------- */

static void test_md5_known_answers(void **state)
{
    char hex[65];
    (void)state;
    digest_hex(EOTA_HASH_MD5, "", 0, hex);
    assert_string_equal(hex, "d41d8cd98f00b204e9800998ecf8427e");
    digest_hex(EOTA_HASH_MD5, NULL, 0, hex);
    assert_string_equal(hex, "d41d8cd98f00b204e9800998ecf8427e");
    digest_hex(EOTA_HASH_MD5, "abc", 3, hex);
    assert_string_equal(hex, "900150983cd24fb0d6963f7d28e17f72");
    digest_hex(EOTA_HASH_MD5, "message digest", 14, hex);
    assert_string_equal(hex, "f96b697d7cb7938d525a2f31aaf161d0");
}

static void test_sha256_known_answers(void **state)
{
    char hex[65];
    (void)state;
    digest_hex(EOTA_HASH_SHA256, "", 0, hex);
    assert_string_equal(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    digest_hex(EOTA_HASH_SHA256, "abc", 3, hex);
    assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    digest_hex(EOTA_HASH_SHA256, "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 56, hex);
    assert_string_equal(hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

static void test_digest_bad_arguments(void **state)
{
    uint8_t d[32];
    (void)state;
    assert_int_equal(eota_posix_digest((eota_hash_alg)7, "abc", 3, d), EOTA_EINVAL);
    assert_int_equal(eota_posix_digest(EOTA_HASH_MD5, NULL, 3, d), EOTA_EINVAL);
    assert_int_equal(eota_posix_digest(EOTA_HASH_MD5, "abc", 3, NULL), EOTA_EINVAL);
}

/* One million 'a' (the FIPS 180-2 / RFC 1321 long vectors), fed to the seam
 * in odd pieces and compared with both the published digest and the
 * one-shot helper. */
static void test_hash_million_a_in_pieces(void **state)
{
    static const size_t pieces[] = {1, 3, 7, 63, 64, 65, 127, 1000, 4093, 8192, 8193, 0, 65537};
    static const size_t one[] = {1000000};
    const size_t len = 1000000;
    uint8_t *data = malloc(len);
    eota_posix_hash ph;
    eota_hash h;
    char seam[65], shot[65];

    (void)state;
    assert_non_null(data);
    memset(data, 'a', len);
    assert_int_equal(eota_posix_hash_init(&ph), EOTA_OK);
    h = eota_posix_hash_seam(&ph);
    assert_ptr_equal(h.ctx, &ph);

    seam_hex(&h, EOTA_HASH_MD5, data, len, pieces, sizeof pieces / sizeof pieces[0], seam);
    digest_hex(EOTA_HASH_MD5, data, len, shot);
    assert_string_equal(seam, "7707d6ae4e027c70eea2a935c2296f21");
    assert_string_equal(seam, shot);

    seam_hex(&h, EOTA_HASH_SHA256, data, len, pieces, sizeof pieces / sizeof pieces[0], seam);
    digest_hex(EOTA_HASH_SHA256, data, len, shot);
    assert_string_equal(seam, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
    assert_string_equal(seam, shot);

    /* the same instance again, one piece: no state left from before */
    seam_hex(&h, EOTA_HASH_SHA256, data, len, one, 1, seam);
    assert_string_equal(seam, shot);

    eota_posix_hash_free(&ph);
    free(data);
}

static void test_hash_seam_lifecycle(void **state)
{
    eota_posix_hash ph;
    eota_hash h;
    uint8_t d[32];
    char hex[65];

    (void)state;
    assert_int_equal(eota_posix_hash_init(&ph), EOTA_OK);
    assert_int_equal(ph.alg, -1);
    h = eota_posix_hash_seam(&ph);

    /* finish with nothing begun fails, and update alone does nothing */
    h.ops->update(h.ctx, (const uint8_t *)"x", 1);
    assert_int_equal(h.ops->finish(h.ctx, d), EOTA_ECRYPTO);

    /* begin drops an unfinished hash */
    assert_int_equal(h.ops->begin(h.ctx, EOTA_HASH_SHA256), EOTA_OK);
    h.ops->update(h.ctx, (const uint8_t *)"garbage", 7);
    assert_int_equal(h.ops->begin(h.ctx, EOTA_HASH_MD5), EOTA_OK);
    assert_int_equal(ph.alg, EOTA_HASH_MD5);
    h.ops->update(h.ctx, (const uint8_t *)"ab", 2);
    h.ops->update(h.ctx, (const uint8_t *)"c", 1);
    h.ops->update(h.ctx, NULL, 0);
    assert_int_equal(h.ops->finish(h.ctx, d), EOTA_OK);
    to_hex(d, 16, hex);
    assert_string_equal(hex, "900150983cd24fb0d6963f7d28e17f72");
    /* a second finish without begin fails: the hash is over */
    assert_int_equal(ph.alg, -1);
    assert_int_equal(h.ops->finish(h.ctx, d), EOTA_ECRYPTO);

    /* an unknown algorithm is refused and leaves no hash in progress */
    assert_int_equal(h.ops->begin(h.ctx, (eota_hash_alg)9), EOTA_EINVAL);
    assert_int_equal(h.ops->finish(h.ctx, d), EOTA_ECRYPTO);

    eota_posix_hash_free(&ph);
    assert_null(ph.md_ctx);
    eota_posix_hash_free(&ph); /* twice is harmless */
    assert_int_equal(eota_posix_hash_init(NULL), EOTA_EINVAL);
}

/* ---------- random and clock ---------- */

/* This program's own getrandom, which the library's call binds to at link
 * time: in "stingy" mode it gives at most 5 bytes per call and fails every
 * other call with EINTR, as a signal-interrupted or large request would. */
static int stingy_getrandom;
static unsigned getrandom_calls;

ssize_t getrandom(void *buf, size_t len, unsigned int flags)
{
    getrandom_calls++;
    if (stingy_getrandom) {
        if (getrandom_calls % 2 == 0) {
            errno = EINTR;
            return -1;
        }
        if (len > 5)
            len = 5;
    }
    return (ssize_t)syscall(SYS_getrandom, buf, len, flags);
}

static void test_random_differs(void **state)
{
    eota_random r = eota_posix_random();
    uint8_t a[32], b[32], zero[32] = {0};
    size_t big_len = 1u << 20;
    uint8_t *big = calloc(1, big_len);
    size_t nonzero = 0;

    (void)state;
    assert_non_null(r.fill);
    memset(a, 0, sizeof a);
    memset(b, 0, sizeof b);
    assert_int_equal(r.fill(r.ctx, a, sizeof a), EOTA_OK);
    assert_int_equal(r.fill(r.ctx, b, sizeof b), EOTA_OK);
    assert_memory_not_equal(a, b, sizeof a);
    assert_memory_not_equal(a, zero, sizeof a);
    assert_int_equal(r.fill(r.ctx, a, 0), EOTA_OK);

    /* a large request (more than one getrandom call may return) is filled
     * to the end */
    assert_non_null(big);
    assert_int_equal(r.fill(r.ctx, big, big_len), EOTA_OK);
    for (size_t i = big_len - 4096; i < big_len; i++)
        nonzero += big[i] != 0;
    assert_true(nonzero > 3500);
    free(big);
}

static void test_random_short_reads(void **state)
{
    eota_random r = eota_posix_random();
    uint8_t buf[64];
    size_t zeros = 0;

    (void)state;
    memset(buf, 0, sizeof buf);
    getrandom_calls = 0;
    stingy_getrandom = 1;
    assert_int_equal(r.fill(r.ctx, buf, sizeof buf), EOTA_OK);
    stingy_getrandom = 0;
    /* 13 short reads for 64 bytes, with the EINTRs in between */
    assert_true(getrandom_calls >= 25);
    /* the tail was filled too */
    for (size_t i = 48; i < sizeof buf; i++)
        zeros += buf[i] == 0;
    assert_true(zeros < 4);
}

static void test_clock_monotonic(void **state)
{
    eota_clock c = eota_posix_clock();
    uint32_t t0, t1, prev;
    uint64_t w0, w1;

    (void)state;
    assert_non_null(c.now_ms);
    w0 = eota_posix_now_ms64();
    t0 = c.now_ms(c.ctx);
    /* the 32-bit clock is the low half of the 64-bit one */
    assert_true((uint32_t)(t0 - (uint32_t)w0) < 1000u);
    prev = t0;
    for (int i = 0; i < 1000; i++) {
        uint32_t t = c.now_ms(c.ctx);
        assert_true((uint32_t)(t - prev) < 1000u); /* never goes back */
        prev = t;
    }
    sleep_ms(50);
    t1 = c.now_ms(c.ctx);
    w1 = eota_posix_now_ms64();
    assert_true((uint32_t)(t1 - t0) >= 50u);
    assert_true((uint32_t)(t1 - t0) < 5000u);
    assert_true(w1 - w0 >= 50u);
    assert_true(w1 >= w0);
}

/* ---------- transport ---------- */

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

/* ---------- mem backend ---------- */

static uint8_t do_begin(eota_backend *b, uint32_t size)
{
    eota_begin_info info = {size, EOTA_OTA_TYPE_APP, 0};
    return b->ops->begin(b->ctx, &info);
}

/* Write all of data, calling again for what the backend did not take;
 * returns the first non-zero code, 0 when all was taken. */
static uint8_t write_all(eota_backend *b, const uint8_t *data, size_t len, unsigned *calls)
{
    size_t off = 0;
    *calls = 0;
    while (off < len) {
        size_t taken = 999999;
        uint8_t rc = b->ops->write(b->ctx, data + off, len - off, &taken);
        (*calls)++;
        if (rc != 0)
            return rc;
        assert_true(taken <= len - off);
        off += taken;
        assert_true(*calls < 100000);
    }
    return 0;
}

static void test_mem_commit(void **state)
{
    uint8_t store[100];
    uint8_t img[100];
    eota_mem_backend mb;
    eota_backend b;
    unsigned calls;
    int pending = 7;

    (void)state;
    for (size_t i = 0; i < sizeof img; i++)
        img[i] = (uint8_t)(i * 7 + 1);
    eota_mem_backend_init(&mb, store, sizeof store);
    mb.caps = EOTA_BACKEND_CAP_GZIP;
    b = eota_mem_backend_seam(&mb);
    assert_ptr_equal(b.ctx, &mb);
    assert_int_equal(b.caps, EOTA_BACKEND_CAP_GZIP);

    assert_int_equal(do_begin(&b, 100), 0);
    assert_int_equal(mb.begun, 1);
    assert_int_equal(mb.info.size, 100);
    assert_int_equal(write_all(&b, img, 60, &calls), 0);
    assert_int_equal(calls, 1);
    assert_int_equal(write_all(&b, img + 60, 40, &calls), 0);
    assert_int_equal(mb.len, 100);
    assert_int_equal(mb.committed, 0); /* nothing counts before end */
    assert_int_equal(b.ops->end(b.ctx, &pending), 0);
    assert_int_equal(pending, 0);
    assert_int_equal(mb.committed, 1);
    assert_int_equal(mb.committed_len, 100);
    assert_int_equal(mb.begun, 0);
    assert_memory_equal(store, img, 100);
    assert_int_equal(mb.begin_calls, 1);
    assert_int_equal(mb.write_calls, 2);
    assert_int_equal(mb.end_calls, 1);
    assert_int_equal(mb.aborted, 0);

    /* a second upload that is aborted leaves the first commit alone */
    assert_int_equal(do_begin(&b, 10), 0);
    assert_int_equal(mb.len, 0);
    assert_int_equal(write_all(&b, img, 5, &calls), 0);
    b.ops->abort(b.ctx);
    assert_int_equal(mb.aborted, 1);
    assert_int_equal(mb.begun, 0);
    assert_int_equal(mb.committed, 1);
    assert_int_equal(mb.committed_len, 100);
    /* after abort, write and end fail: the upload is gone */
    {
        size_t taken = 5;
        assert_int_equal(b.ops->write(b.ctx, img, 1, &taken), EOTA_RESP_ERROR_WRITING_FLASH);
        assert_int_equal(taken, 0);
    }
    assert_int_equal(b.ops->end(b.ctx, &pending), EOTA_RESP_ERROR_UPDATE_END);
    assert_int_equal(mb.committed, 1);
}

static void test_mem_too_big(void **state)
{
    uint8_t store[16];
    eota_mem_backend mb;
    eota_backend b;

    (void)state;
    eota_mem_backend_init(&mb, store, sizeof store);
    b = eota_mem_backend_seam(&mb);
    assert_int_equal(do_begin(&b, 17), EOTA_RESP_ERROR_ESP32_NOT_ENOUGH_SPACE);
    assert_int_equal(mb.begun, 0);
    assert_int_equal(do_begin(&b, 16), 0); /* exactly full fits */
    b.ops->abort(b.ctx);

    mb.too_big_code = EOTA_RESP_ERROR_RP2040_NOT_ENOUGH_SPACE;
    assert_int_equal(do_begin(&b, 0xFFFFFFFFu), EOTA_RESP_ERROR_RP2040_NOT_ENOUGH_SPACE);
    assert_int_equal(mb.begun, 0);
    assert_int_equal(mb.begin_calls, 3);
}

static void test_mem_fail_begin(void **state)
{
    uint8_t store[16];
    eota_mem_backend mb;
    eota_backend b;

    (void)state;
    eota_mem_backend_init(&mb, store, sizeof store);
    mb.fail_begin = EOTA_RESP_ERROR_NO_UPDATE_PARTITION;
    b = eota_mem_backend_seam(&mb);
    assert_int_equal(do_begin(&b, 4), EOTA_RESP_ERROR_NO_UPDATE_PARTITION);
    assert_int_equal(mb.begun, 0);
    assert_int_equal(mb.begin_calls, 1);
    mb.fail_begin = 0;
    assert_int_equal(do_begin(&b, 4), 0);
    assert_int_equal(mb.begun, 1);
}

static void test_mem_max_take(void **state)
{
    uint8_t store[64], img[50];
    eota_mem_backend mb;
    eota_backend b;
    unsigned calls;
    int pending;

    (void)state;
    memset(img, 0xA5, sizeof img);
    eota_mem_backend_init(&mb, store, sizeof store);
    mb.max_take = 7;
    b = eota_mem_backend_seam(&mb);
    assert_int_equal(do_begin(&b, 50), 0);
    {
        size_t taken = 0;
        assert_int_equal(b.ops->write(b.ctx, img, 50, &taken), 0);
        assert_int_equal(taken, 7);
        assert_int_equal(b.ops->write(b.ctx, img, 3, &taken), 0);
        assert_int_equal(taken, 3);
        assert_int_equal(b.ops->write(b.ctx, img, 0, &taken), 0);
        assert_int_equal(taken, 0);
    }
    assert_int_equal(write_all(&b, img + 10, 40, &calls), 0);
    assert_int_equal(calls, 6); /* ceil(40 / 7) */
    assert_int_equal(mb.len, 50);
    assert_int_equal(b.ops->end(b.ctx, &pending), 0);
    assert_int_equal(mb.committed, 1);
    assert_memory_equal(store, img, 50);
}

static void test_mem_fail_write_after(void **state)
{
    uint8_t store[64], img[64];
    eota_mem_backend mb;
    eota_backend b;
    unsigned calls;
    int pending;

    (void)state;
    memset(img, 1, sizeof img);
    eota_mem_backend_init(&mb, store, sizeof store);
    mb.fail_write = EOTA_RESP_ERROR_WRITING_FLASH;
    mb.fail_write_after = 20;
    mb.max_take = 8;
    b = eota_mem_backend_seam(&mb);
    assert_int_equal(do_begin(&b, 64), 0);
    /* 8 + 8 + 4 taken, then the failure */
    assert_int_equal(write_all(&b, img, 64, &calls), EOTA_RESP_ERROR_WRITING_FLASH);
    assert_int_equal(mb.len, 20);
    assert_int_equal(calls, 4);
    /* it keeps failing, and end does not commit the partial image */
    {
        size_t taken = 1;
        assert_int_equal(b.ops->write(b.ctx, img, 1, &taken), EOTA_RESP_ERROR_WRITING_FLASH);
        assert_int_equal(taken, 0);
    }
    b.ops->abort(b.ctx);
    assert_int_equal(mb.committed, 0);
    assert_int_equal(mb.aborted, 1);

    /* fail at once: fail_write_after 0 */
    eota_mem_backend_init(&mb, store, sizeof store);
    mb.fail_write = 0x90;
    b = eota_mem_backend_seam(&mb);
    assert_int_equal(do_begin(&b, 4), 0);
    assert_int_equal(write_all(&b, img, 4, &calls), 0x90);
    assert_int_equal(mb.len, 0);
    assert_int_equal(b.ops->end(b.ctx, &pending), EOTA_RESP_ERROR_UPDATE_END);
    assert_int_equal(mb.committed, 0);
}

static void test_mem_fail_end(void **state)
{
    uint8_t store[8];
    eota_mem_backend mb;
    eota_backend b;
    unsigned calls;
    int pending = 5;

    (void)state;
    eota_mem_backend_init(&mb, store, sizeof store);
    mb.fail_end = EOTA_RESP_ERROR_SIGNATURE_INVALID;
    b = eota_mem_backend_seam(&mb);
    assert_int_equal(do_begin(&b, 8), 0);
    assert_int_equal(write_all(&b, (const uint8_t *)"12345678", 8, &calls), 0);
    assert_int_equal(b.ops->end(b.ctx, &pending), EOTA_RESP_ERROR_SIGNATURE_INVALID);
    assert_int_equal(pending, 0);
    assert_int_equal(mb.committed, 0);
    assert_int_equal(mb.committed_len, 0);
    assert_int_equal(mb.begun, 1); /* the engine still owes an abort */
    b.ops->abort(b.ctx);
    assert_int_equal(mb.begun, 0);
    assert_int_equal(mb.aborted, 1);
}

static void test_mem_end_short_image(void **state)
{
    uint8_t store[8];
    eota_mem_backend mb;
    eota_backend b;
    unsigned calls;
    int pending;

    (void)state;
    eota_mem_backend_init(&mb, store, sizeof store);
    b = eota_mem_backend_seam(&mb);
    assert_int_equal(do_begin(&b, 8), 0);
    assert_int_equal(write_all(&b, (const uint8_t *)"1234", 4, &calls), 0);
    assert_int_equal(b.ops->end(b.ctx, &pending), EOTA_RESP_ERROR_UPDATE_END);
    assert_int_equal(mb.committed, 0);
    /* and never past the capacity */
    assert_int_equal(write_all(&b, (const uint8_t *)"1234", 4, &calls), 0);
    assert_int_equal(write_all(&b, (const uint8_t *)"9", 1, &calls), EOTA_RESP_ERROR_WRITING_FLASH);
    assert_int_equal(mb.len, 8);
}

static void test_mem_end_pending(void **state)
{
    uint8_t store[8];
    eota_mem_backend mb;
    eota_backend b;
    unsigned calls;
    int pending;

    (void)state;
    eota_mem_backend_init(&mb, store, sizeof store);
    mb.end_pending_rounds = 3;
    b = eota_mem_backend_seam(&mb);
    assert_int_equal(do_begin(&b, 2), 0);
    assert_int_equal(write_all(&b, (const uint8_t *)"ab", 2, &calls), 0);
    for (int i = 0; i < 3; i++) {
        pending = 0;
        assert_int_equal(b.ops->end(b.ctx, &pending), 0);
        assert_int_equal(pending, 1);
        assert_int_equal(mb.committed, 0);
    }
    pending = 1;
    assert_int_equal(b.ops->end(b.ctx, &pending), 0);
    assert_int_equal(pending, 0);
    assert_int_equal(mb.committed, 1);
    assert_int_equal(mb.committed_len, 2);
    assert_int_equal(mb.end_calls, 4);

    /* pending, then the injected failure */
    eota_mem_backend_init(&mb, store, sizeof store);
    mb.end_pending_rounds = 1;
    mb.fail_end = EOTA_RESP_ERROR_UPDATE_END;
    b = eota_mem_backend_seam(&mb);
    assert_int_equal(do_begin(&b, 1), 0);
    assert_int_equal(write_all(&b, (const uint8_t *)"z", 1, &calls), 0);
    assert_int_equal(b.ops->end(b.ctx, &pending), 0);
    assert_int_equal(pending, 1);
    assert_int_equal(b.ops->end(b.ctx, &pending), EOTA_RESP_ERROR_UPDATE_END);
    assert_int_equal(pending, 0);
    assert_int_equal(mb.committed, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_md5_known_answers),
        cmocka_unit_test(test_sha256_known_answers),
        cmocka_unit_test(test_digest_bad_arguments),
        cmocka_unit_test(test_hash_million_a_in_pieces),
        cmocka_unit_test(test_hash_seam_lifecycle),
        cmocka_unit_test(test_random_differs),
        cmocka_unit_test(test_random_short_reads),
        cmocka_unit_test(test_clock_monotonic),
        cmocka_unit_test(test_transport_socketpair),
        cmocka_unit_test(test_transport_write_would_block),
        cmocka_unit_test(test_transport_no_sigpipe_socket),
        cmocka_unit_test(test_transport_no_sigpipe_pipe),
        cmocka_unit_test(test_transport_tcp_reset),
        cmocka_unit_test(test_set_nonblocking_bad_fd),
        cmocka_unit_test(test_mem_commit),
        cmocka_unit_test(test_mem_too_big),
        cmocka_unit_test(test_mem_fail_begin),
        cmocka_unit_test(test_mem_max_take),
        cmocka_unit_test(test_mem_fail_write_after),
        cmocka_unit_test(test_mem_fail_end),
        cmocka_unit_test(test_mem_end_short_image),
        cmocka_unit_test(test_mem_end_pending),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
