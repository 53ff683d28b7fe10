/*
 * test_opt.c: the build options of eota/opt.h, on a core built as a small
 * device would build it (tests/CMakeLists.txt: eota_core_device, with
 * EOTA_WITH_CLIENT, EOTA_WITH_DESCRIPTIONS, EOTA_WITH_LOG_TEXT,
 * EOTA_WITH_MD5_AUTH and EOTA_WITH_CRC_TABLE all 0). The other tests run the
 * defaults; this one checks that turning options off leaves out what they
 * name and nothing else: names instead of sentences, log lines with their
 * level and number but no sentence, no uploader engine, no MD5 challenge
 * (refused at init, not silently ignored), and a bitwise CRC-32 that gives
 * zlib's results.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <zlib.h>

#include "eota/client.h"
#include "eota/crc32.h"
#include "eota/protocol.h"
#include "eota/server.h"
#include "eota/status.h"

#if EOTA_WITH_CLIENT || EOTA_WITH_DESCRIPTIONS || EOTA_WITH_LOG_TEXT || EOTA_WITH_MD5_AUTH || EOTA_WITH_CRC_TABLE
#error "test_opt.c is built against the device-only core (tests/CMakeLists.txt)"
#endif

/* Weak: NULL when the library has no uploader engine, as it should not. */
extern int eota_client_init(eota_client *cl, const eota_client_config *cfg, uint8_t *buf, size_t len)
    __attribute__((weak));

static void test_descriptions_are_names(void **state)
{
    (void)state;
    assert_string_equal(eota_response_describe(EOTA_RESP_ERROR_MD5_MISMATCH), "ERROR_MD5_MISMATCH");
    assert_string_equal(eota_response_describe(0x45), "UPDATE_END_OK");
    assert_string_equal(eota_response_describe(0x77), "unknown code");
    assert_string_equal(eota_response_name(0x8B), "ERROR_MD5_MISMATCH");
    assert_string_equal(eota_status_describe(EOTA_ETOOBIG), "ETOOBIG");
    assert_string_equal(eota_status_describe(-99), "UNKNOWN");
    assert_string_equal(eota_status_name(EOTA_EBUSY), "EBUSY");
}

static void test_no_uploader_engine(void **state)
{
    (void)state;
    assert_null(eota_client_init);
}

/* Seams that init only checks for presence; nothing is called (but the
 * reads of the log test, which t_read gives from t_script). */
static const uint8_t *t_script;
static size_t t_script_len;
static long t_read(void *c, uint8_t *b, size_t n)
{
    (void)c;
    if (t_script_len == 0)
        return EOTA_AGAIN;
    n = n < t_script_len ? n : t_script_len;
    memcpy(b, t_script, n);
    t_script += n;
    t_script_len -= n;
    return (long)n;
}
static long t_write(void *c, const uint8_t *b, size_t n) { (void)c, (void)b; return (long)n; }
static void t_close(void *c) { (void)c; }
static uint32_t c_now(void *ctx) { (void)ctx; return 0; }
static int r_fill(void *ctx, uint8_t *b, size_t n) { (void)ctx; memset(b, 7, n); return EOTA_OK; }
static int h_begin(void *ctx, eota_hash_alg a) { (void)ctx, (void)a; return EOTA_OK; }
static void h_update(void *ctx, const uint8_t *d, size_t n) { (void)ctx, (void)d, (void)n; }
static int h_finish(void *ctx, uint8_t *d) { (void)ctx; memset(d, 0, 16); return EOTA_OK; }
static int b_begin(void *ctx, const eota_begin_info *i) { (void)ctx, (void)i; return EOTA_OK; }
static int b_write(void *ctx, const uint8_t *d, size_t n, size_t *t) { (void)ctx, (void)d; *t = n; return EOTA_OK; }
static int b_end(void *ctx) { (void)ctx; return EOTA_OK; }
static void b_abort(void *ctx) { (void)ctx; }

static void server_config(eota_server_config *cfg)
{
    static const eota_transport_ops tops = {t_read, t_write, t_close};
    static const eota_hash_ops hops = {h_begin, h_update, h_finish};
    static const eota_backend_ops bops = {b_begin, b_write, b_end, b_abort, NULL};
    memset(cfg, 0, sizeof *cfg);
    cfg->transport = &tops;
    cfg->clock.now_ms = c_now;
    cfg->random.fill = r_fill;
    cfg->hash.ops = &hops;
    cfg->backend.ops = &bops;
}

static void test_md5_auth_refused_at_init(void **state)
{
    eota_server_config cfg;
    eota_server srv;
    uint8_t buf[256];

    (void)state;
    server_config(&cfg);
    cfg.password = "secret";
    assert_int_equal(eota_server_init(&srv, &cfg, buf, sizeof buf), EOTA_OK);
    cfg.allow_md5_auth = 1;
    assert_int_equal(eota_server_init(&srv, &cfg, buf, sizeof buf), EOTA_EINVAL);
}

/* What on_log was given. */
typedef struct logged {
    int n, empty, errors;
    uint32_t error_arg;
} logged;

static void on_log(void *ctx, eota_log_level level, const char *msg, uint32_t arg)
{
    logged *l = ctx;
    l->n++;
    l->empty += msg != NULL && msg[0] == '\0';
    if (level == EOTA_LOG_ERROR) {
        l->errors++;
        l->error_arg = arg;
    }
}

/* A session announcing size 0: the engine logs the connection (server.c)
 * and the ingest the refusal (ingest.c, ERROR with the code 0x81). */
static void test_log_lines_have_no_sentence(void **state)
{
    static const uint8_t script[] = {EOTA_MAGIC_0, EOTA_MAGIC_1, EOTA_MAGIC_2, EOTA_MAGIC_3, EOTA_MAGIC_4,
                                     0x00, 0, 0, 0, 0};
    eota_server_config cfg;
    eota_server srv;
    uint8_t buf[256];
    logged l = {0, 0, 0, 0};
    int conn = 1;

    (void)state;
    server_config(&cfg);
    cfg.events.on_log = on_log;
    cfg.events.ctx = &l;
    t_script = script;
    t_script_len = sizeof script;
    assert_int_equal(eota_server_init(&srv, &cfg, buf, sizeof buf), EOTA_OK);
    assert_int_equal(eota_server_accept(&srv, &conn), EOTA_OK);
    for (int i = 0; i < 8; i++)
        (void)eota_server_poll(&srv);
    eota_server_info info;
    eota_server_get_info(&srv, &info);
    assert_int_equal(info.error_code, EOTA_RESP_ERROR_UPDATE_PREPARE);
    assert_true(l.n >= 3); /* connected, size received, the refusal */
    assert_int_equal(l.empty, l.n);
    assert_int_equal(l.errors, 1);
    assert_int_equal(l.error_arg, EOTA_RESP_ERROR_UPDATE_PREPARE);
}

/* The bitwise CRC-32 (EOTA_WITH_CRC_TABLE 0) against zlib's: the check
 * value, every length up to 300 bytes of varied data, and pieces of every
 * size continuing one CRC. */
static void test_bitwise_crc32_is_zlibs(void **state)
{
    uint8_t data[300];
    uint32_t x = 0x12345678u;

    (void)state;
    assert_int_equal(eota_crc32(0, "123456789", 9), 0xCBF43926u);
    assert_int_equal(eota_crc32(0, NULL, 0), 0);
    for (size_t i = 0; i < sizeof data; i++) {
        x = x * 1103515245u + 12345u;
        data[i] = (uint8_t)(x >> 16);
    }
    for (size_t n = 0; n <= sizeof data; n++)
        assert_int_equal(eota_crc32(0, data, n), crc32(0, data, (uInt)n));
    for (size_t piece = 1; piece <= 17; piece++) {
        uint32_t c = 0;
        for (size_t off = 0; off < sizeof data; off += piece)
            c = eota_crc32(c, data + off, off + piece <= sizeof data ? piece : sizeof data - off);
        assert_int_equal(c, crc32(0, data, sizeof data));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_descriptions_are_names),
        cmocka_unit_test(test_no_uploader_engine),
        cmocka_unit_test(test_md5_auth_refused_at_init),
        cmocka_unit_test(test_log_lines_have_no_sentence),
        cmocka_unit_test(test_bitwise_crc32_is_zlibs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
