/*
 * test_multipart.c: the web upload's multipart/form-data parser
 * (src/app/web/multipart.c): the boundary from the Content-Type, the file
 * part found whatever its field name, its bytes handed out exactly however
 * the body is cut into reads (delimiters split across reads, look-alikes of
 * the delimiter inside the image), partial takes when the output is small,
 * and each way a body can be wrong: no file, cut inside the file, no
 * closing delimiter, an empty file, headers too long, bad framing.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "web/multipart.h"

#define CTYPE "multipart/form-data; boundary=XyZ123"
#define DELIM "--XyZ123"
#define OUT_MAX 65536u

typedef struct body {
    char *p;
    size_t len;
    uint8_t file[4096];
    size_t file_len;
} body;

/* A body: a preamble, a text field, the file part (field `field`), and the
 * closing delimiter unless cut. The file holds delimiter look-alikes. */
static void make_body(body *b, const char *field, size_t file_len, int closing)
{
    /* all but the whole delimiter (CRLF--XyZ123), never followed by its end */
    static const char tricky[] = "\r\n--XyZ12\r\n-\r\r\n--XyZ\r\r\n--XyZ12\r\r\n";
    for (size_t i = 0; i < file_len; i++)
        b->file[i] = (uint8_t)(i * 31 + 7);
    for (size_t i = 0; i + sizeof tricky - 1 <= file_len; i += 500)
        memcpy(b->file + i, tricky, sizeof tricky - 1);
    b->file_len = file_len;
    b->p = malloc(file_len + 1024);
    assert_non_null(b->p);
    int n = sprintf(b->p,
                    "preamble, ignored\r\n" DELIM "\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\n"
                    "not the image\r\n" DELIM "\r\nContent-Disposition: form-data; name=\"%s\"; "
                    "filename=\"fw \\\"v2\\\".bin\"\r\nContent-Type: application/octet-stream\r\n\r\n",
                    field);
    memcpy(b->p + n, b->file, file_len);
    b->len = (size_t)n + file_len;
    if (closing) {
        static const char end[] = "\r\n" DELIM "--\r\nepilogue"; /* epilogue: 10 bytes */
        memcpy(b->p + b->len, end, sizeof end - 1);
        b->len += sizeof end - 1;
    }
}

/* Feed the body in reads of `step` bytes (the last one shorter) into an
 * output of cap bytes, draining the output after every feed, as the web
 * server does; returns the bytes handed out, copied to out. */
static size_t run(multipart *m, const char *p, size_t len, size_t step, size_t cap, uint8_t *out)
{
    uint8_t *buf = malloc(cap);
    size_t total = 0, off = 0;
    assert_non_null(buf);
    while (off < len && !m->error) {
        size_t n = len - off < step ? len - off : step;
        size_t got = 0;
        size_t used = multipart_feed(m, (const uint8_t *)p + off, n, buf, cap, &got);
        assert_true(used <= n);
        assert_true(got < cap);
        assert_true(total + got <= OUT_MAX);
        memcpy(out + total, buf, got);
        total += got;
        off += used;
        if (!m->error)
            assert_true(used > 0); /* a feed always makes progress */
    }
    free(buf);
    return total;
}

static void test_boundary_from_content_type(void **state)
{
    (void)state;
    multipart m;
    char longb[300];
    assert_int_equal(multipart_init(&m, CTYPE), 0);
    assert_string_equal(m.delim, "\r\n" DELIM);
    assert_int_equal(multipart_reserve(&m), strlen("\r\n" DELIM));
    assert_int_equal(multipart_init(&m, "Multipart/Form-Data; charset=utf-8; BOUNDARY=\"a b;c\""), 0);
    assert_string_equal(m.delim, "\r\n--a b;c");
    assert_int_equal(multipart_init(&m, "multipart/form-data;boundary=abc; x=y"), 0);
    assert_string_equal(m.delim, "\r\n--abc");
    /* what is refused */
    assert_int_equal(multipart_init(&m, NULL), -1);
    assert_int_equal(multipart_init(&m, "application/octet-stream"), -1);
    assert_int_equal(multipart_init(&m, "multipart/form-data"), -1);
    assert_int_equal(multipart_init(&m, "multipart/form-data; boundary="), -1);
    assert_int_equal(multipart_init(&m, "multipart/form-data; boundary=\"\""), -1);
    assert_int_equal(multipart_init(&m, "multipart/form-data; boundary=\"abc"), -1);
    memset(longb, 'b', sizeof longb);
    snprintf(longb, sizeof longb, "multipart/form-data; boundary=%.*s", (int)MULTIPART_BOUNDARY_MAX + 1,
             "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
             "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb");
    assert_int_equal(multipart_init(&m, longb), -1);
    longb[strlen(longb) - 1] = '\0'; /* exactly the most */
    assert_int_equal(multipart_init(&m, longb), 0);
}

static void test_whole_body(void **state)
{
    (void)state;
    multipart m;
    body b;
    static uint8_t out[OUT_MAX];
    make_body(&b, "update", 3000, 1);
    assert_int_equal(multipart_init(&m, CTYPE), 0);
    size_t n = run(&m, b.p, b.len, b.len, OUT_MAX, out);
    assert_null(m.error);
    assert_int_equal(n, 3000);
    assert_memory_equal(out, b.file, 3000);
    assert_int_equal(m.file_bytes, 3000);
    assert_int_equal(multipart_finish(&m), MULTIPART_COMPLETE);
    assert_string_equal(m.field, "update");
    assert_string_equal(m.filename, "fw \"v2\".bin");
    assert_int_equal(m.seen, b.len);
    assert_memory_equal(b.p + m.file_start, b.file, 16); /* where the image starts */
    /* the bound from the length: exact without the epilogue */
    assert_int_equal(multipart_file_bound(&m, b.len - 10), 3000);
    assert_int_equal(multipart_file_bound(&m, b.len), 3010);
    assert_int_equal(multipart_file_bound(&m, 0), 0);
    assert_int_equal(multipart_file_bound(&m, 5), 0);
    free(b.p);
}

static void test_every_split(void **state)
{
    (void)state;
    body b;
    static uint8_t out[OUT_MAX];
    make_body(&b, "update", 1200, 1);
    /* two reads, cut at every place; then one byte at a time; then odd steps */
    for (size_t cut = 1; cut < b.len; cut++) {
        multipart m;
        assert_int_equal(multipart_init(&m, CTYPE), 0);
        size_t got = 0;
        size_t n1 = multipart_feed(&m, (const uint8_t *)b.p, cut, out, OUT_MAX, &got);
        assert_int_equal(n1, cut);
        size_t got2 = 0;
        size_t n2 = multipart_feed(&m, (const uint8_t *)b.p + cut, b.len - cut, out + got, OUT_MAX - got, &got2);
        assert_int_equal(n2, b.len - cut);
        if (got + got2 != 1200 || memcmp(out, b.file, 1200) != 0)
            fail_msg("cut at %zu: %zu bytes out", cut, got + got2);
        assert_int_equal(multipart_finish(&m), MULTIPART_COMPLETE);
    }
    static const size_t steps[] = {1, 2, 3, 7, 64, 1000};
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
        multipart m;
        assert_int_equal(multipart_init(&m, CTYPE), 0);
        assert_int_equal(run(&m, b.p, b.len, steps[i], OUT_MAX, out), 1200);
        assert_memory_equal(out, b.file, 1200);
        assert_int_equal(multipart_finish(&m), MULTIPART_COMPLETE);
    }
    free(b.p);
}

static void test_partial_takes(void **state)
{
    (void)state;
    multipart m;
    body b;
    static uint8_t out[OUT_MAX];
    make_body(&b, "update", 4000, 1);
    assert_int_equal(multipart_init(&m, CTYPE), 0);
    size_t cap = multipart_reserve(&m) + 10;
    size_t got;
    uint8_t small[64];
    /* the output takes 10 more than the reserve: 10 bytes of input a feed */
    assert_int_equal(multipart_feed(&m, (const uint8_t *)b.p, b.len, small, cap, &got), 10);
    /* an output that cannot hold the reserve takes nothing */
    assert_int_equal(multipart_feed(&m, (const uint8_t *)b.p + 10, b.len, small, multipart_reserve(&m), &got), 0);
    assert_int_equal(got, 0);
    /* and draining it little by little gives the whole image */
    size_t n = run(&m, b.p + 10, b.len - 10, b.len, cap, out);
    assert_int_equal(n, 4000);
    assert_memory_equal(out, b.file, 4000);
    assert_int_equal(multipart_finish(&m), MULTIPART_COMPLETE);
    free(b.p);
}

static void test_no_preamble_and_any_field_name(void **state)
{
    (void)state;
    multipart m;
    static uint8_t out[OUT_MAX];
    /* the first delimiter opens the body; the file field is not "update" */
    const char *p = DELIM "\r\nContent-Disposition: form-data; name=\"firmware\"; filename*=UTF-8''x.bin\r\n\r\n"
                          "IMAGE\r\n" DELIM "\r\nContent-Disposition: form-data; name=\"f2\"; filename=\"y\"\r\n\r\n"
                          "second file, skipped\r\n" DELIM "--";
    assert_int_equal(multipart_init(&m, CTYPE), 0);
    assert_int_equal(run(&m, p, strlen(p), 3, OUT_MAX, out), 5);
    assert_memory_equal(out, "IMAGE", 5);
    assert_string_equal(m.field, "firmware");
    assert_string_equal(m.filename, "UTF-8''x.bin");
    assert_int_equal(multipart_finish(&m), MULTIPART_COMPLETE);
}

static void test_incomplete_bodies(void **state)
{
    (void)state;
    multipart m;
    body b;
    static uint8_t out[OUT_MAX];
    /* no closing delimiter: the body ends inside the image */
    make_body(&b, "update", 1000, 0);
    assert_int_equal(multipart_init(&m, CTYPE), 0);
    assert_int_equal(run(&m, b.p, b.len, 100, OUT_MAX, out), 1000);
    assert_int_equal(multipart_finish(&m), MULTIPART_CUT_IN_FILE);
    /* the delimiter after the file, but not the closing "--" */
    memcpy(b.p + b.len, "\r\n" DELIM "\r\n", 12);
    assert_int_equal(multipart_init(&m, CTYPE), 0);
    run(&m, b.p, b.len + 12, 100, OUT_MAX, out);
    assert_null(m.error);
    assert_int_equal(multipart_finish(&m), MULTIPART_NO_CLOSING);
    free(b.p);
    /* a field named like the image, but no file in it */
    const char *nofile = DELIM "\r\nContent-Disposition: form-data; name=\"update\"\r\n\r\nabc\r\n" DELIM "--\r\n";
    assert_int_equal(multipart_init(&m, CTYPE), 0);
    assert_int_equal(run(&m, nofile, strlen(nofile), 5, OUT_MAX, out), 0);
    assert_int_equal(multipart_finish(&m), MULTIPART_NO_FILE);
    /* a file part with nothing in it (no file chosen in a browser) */
    const char *empty = DELIM "\r\nContent-Disposition: form-data; name=\"update\"; filename=\"\"\r\n\r\n\r\n" DELIM "--";
    assert_int_equal(multipart_init(&m, CTYPE), 0);
    assert_int_equal(run(&m, empty, strlen(empty), 5, OUT_MAX, out), 0);
    assert_int_equal(multipart_finish(&m), MULTIPART_EMPTY_FILE);
    /* an empty body */
    assert_int_equal(multipart_init(&m, CTYPE), 0);
    assert_int_equal(multipart_finish(&m), MULTIPART_NO_FILE);
}

static void test_malformed(void **state)
{
    (void)state;
    multipart m;
    static uint8_t out[OUT_MAX];
    static const struct {
        const char *body;
        const char *error;
    } t[] = {
        {DELIM "x\r\n", "unexpected bytes after a boundary"},
        {DELIM "-x", "unexpected bytes after a boundary"},
        {DELIM "\rx", "a boundary line does not end in CRLF"},
        {DELIM " \t\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nok\r\n" DELIM "?", "unexpected bytes after a boundary"},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        assert_int_equal(multipart_init(&m, CTYPE), 0);
        run(&m, t[i].body, strlen(t[i].body), 1, OUT_MAX, out);
        assert_non_null(m.error);
        assert_string_equal(m.error, t[i].error);
        /* nothing more is taken */
        size_t got;
        assert_int_equal(multipart_feed(&m, (const uint8_t *)"abc", 3, out, OUT_MAX, &got), 0);
    }
    /* headers of a part beyond the limit */
    size_t hl = MULTIPART_HEADERS_MAX + 100;
    char *big = malloc(hl + 32);
    assert_non_null(big);
    int n = sprintf(big, DELIM "\r\nX-Pad: ");
    memset(big + n, 'a', hl - (size_t)n);
    assert_int_equal(multipart_init(&m, CTYPE), 0);
    run(&m, big, hl, 997, OUT_MAX, out);
    assert_non_null(m.error);
    assert_string_equal(m.error, "the headers of a part are too long");
    free(big);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_boundary_from_content_type),
        cmocka_unit_test(test_whole_body),
        cmocka_unit_test(test_every_split),
        cmocka_unit_test(test_partial_takes),
        cmocka_unit_test(test_no_preamble_and_any_field_name),
        cmocka_unit_test(test_incomplete_bodies),
        cmocka_unit_test(test_malformed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
