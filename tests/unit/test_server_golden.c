/*
 * test_server_golden.c: golden transcripts of whole exchanges with the
 * device engine, checked in under tests/golden/, one .txt file each; the
 * format is described in tests/golden/README.md and tests/support/golden.h.
 *
 * Three checks, each able to fail on its own:
 *  - replay: the client lines of every file are played against the engine,
 *    and the transcript it produces must equal the file, byte for byte and
 *    line for line (order included);
 *  - spec: the device bytes of every file must equal the bytes written here
 *    by hand from PROTOCOL.md section 2, and the v2 file must be the
 *    worked example line for line: the golden files are the spec check, so a
 *    regenerated file that drifted from the spec fails here;
 *  - generator: the scenario code below must produce the file as it is.
 *
 * EOTA_REGEN_GOLDEN=1 rewrites the files from the scenario code (then review
 * the diff by hand against PROTOCOL.md before committing it).
 */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "eota/server.h"
#include "fake.h"
#include "golden.h"

#ifndef EOTA_SOURCE_DIR
#error "EOTA_SOURCE_DIR must be defined by the build"
#endif
#define GOLDEN_DIR EOTA_SOURCE_DIR "/tests/golden/"

#define NONCE64_0 "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
#define NONCE32_0 "000102030405060708090a0b0c0d0e0f"
#define CNONCE64 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define CNONCE32 "fedcba9876543210fedcba9876543210"

/* ---------- client steps ---------- */

static void send_magic(golden_run *r) { golden_send(r, "6C 26 F7 5C 45"); }

static void send_byte(golden_run *r, uint8_t b)
{
    char t[8];
    snprintf(t, sizeof t, "%02X", b);
    golden_send(r, t);
}

static void send_size(golden_run *r, uint32_t n)
{
    char t[32];
    snprintf(t, sizeof t, "%02X %02X %02X %02X", (unsigned)(n >> 24) & 0xFF, (unsigned)(n >> 16) & 0xFF,
             (unsigned)(n >> 8) & 0xFF, (unsigned)n & 0xFF);
    golden_send(r, t);
}

static void send_md5(golden_run *r, size_t n)
{
    char m[33], t[40];
    pattern_md5_hex(m, n);
    snprintf(t, sizeof t, "\"%s\"", m);
    golden_send(r, t);
}

/* The stock uploader's 8192-byte blocks. */
static void send_image(golden_run *r, size_t size)
{
    for (size_t off = 0; off < size; off += EOTA_BLOCK_SIZE)
        golden_send_data(r, size - off < EOTA_BLOCK_SIZE ? size - off : EOTA_BLOCK_SIZE, off);
}

static void send_auth(golden_run *r, const char *password)
{
    const char *nonce = golden_nonce(r);
    int md5 = strlen(nonce) == EOTA_MD5_HEX_LEN;
    const char *cn = md5 ? CNONCE32 : CNONCE64;
    char resp[65], t[160];
    auth_response(resp, md5 ? EOTA_HASH_MD5 : EOTA_HASH_SHA256, password, nonce, cn);
    snprintf(t, sizeof t, "\"%s\" \"%s\"", cn, resp);
    golden_send(r, t);
}

/* Magic, features, [auth], [type], size, MD5, image, 00. */
typedef struct plain {
    uint8_t features, type;
    uint32_t size;
    const char *password; /* client side; NULL: no auth step */
    int bad_md5;
} plain;

static void upload(golden_run *r, const plain *p)
{
    send_magic(r);
    send_byte(r, p->features);
    if (p->password)
        send_auth(r, p->password);
    if (p->features & EOTA_FEATURE_EXTENDED)
        send_byte(r, p->type);
    send_size(r, p->size);
    if (p->bad_md5)
        golden_send(r, "\"00000000000000000000000000000000\"");
    else
        send_md5(r, p->size);
    send_image(r, p->size);
    send_byte(r, 0x00);
}

static const char COMMON[] = "C = uploader (client), D = device (eota engine); bytes in hex, \"...\" is ASCII.\n"
                             "Image bytes: byte[i] = i*7 mod 256. Nonces come from a counting fake random.\n"
                             "Regenerate: EOTA_REGEN_GOLDEN=1 test_server_golden (then check by hand).";

static void begin(golden_run *r, const golden_config *c, const char *what)
{
    char comment[1024];
    snprintf(comment, sizeof comment, "%s\n%s", what, COMMON);
    golden_begin(r, c, comment);
}

/* ---------- the scenarios ---------- */

static char *gen_v1(void)
{
    golden_run r;
    golden_config c;
    golden_config_default(&c);
    c.version = 1;
    begin(&r, &c, "Version 1 device, no password, stock client (07), 20000 bytes: no 47 at all.");
    plain p = {.features = 0x07, .size = 20000};
    upload(&r, &p);
    return golden_end(&r);
}

static char *gen_v2(void)
{
    golden_run r;
    golden_config c;
    golden_config_default(&c);
    begin(&r, &c, "PROTOCOL.md section 2 worked example: version 2, no password, extended client (07),\n"
                  "20000-byte image in 8192-byte blocks: 47 after 8192, 16384 and 20000 bytes.");
    plain p = {.features = 0x07, .size = 20000};
    upload(&r, &p);
    return golden_end(&r);
}

static char *gen_no_password(void)
{
    golden_run r;
    golden_config c;
    golden_config_default(&c);
    begin(&r, &c, "No password, client with one-byte features (02: SHA-256, not extended): 40, then\n"
                  "41 at once (sent also without password), no type byte.");
    plain p = {.features = 0x02, .size = 20000};
    upload(&r, &p);
    return golden_end(&r);
}

static char *gen_sha256_auth(void)
{
    golden_run r;
    golden_config c;
    golden_config_default(&c);
    strcpy(c.password, "hunter2");
    begin(&r, &c, "SHA-256 authentication: 02 + 64 hex nonce; the client answers cnonce (64) +\n"
                  "hex(SHA256(password || nonce || cnonce)) (64); 41.");
    plain p = {.features = 0x07, .size = 1000, .password = "hunter2"};
    upload(&r, &p);
    return golden_end(&r);
}

static char *gen_wrong_password(void)
{
    golden_run r;
    golden_config c;
    golden_config_default(&c);
    strcpy(c.password, "hunter2");
    begin(&r, &c, "Wrong password: the response is computed with \"hunter3\": 82, ERROR event, closed.");
    send_magic(&r);
    send_byte(&r, 0x07);
    send_auth(&r, "hunter3");
    golden_close(&r);
    return golden_end(&r);
}

static char *gen_sha256_required(void)
{
    golden_run r;
    golden_config c;
    golden_config_default(&c);
    strcpy(c.password, "hunter2");
    begin(&r, &c, "Password set, client without bit 0x02 and MD5 not allowed (default): 82.");
    send_magic(&r);
    send_byte(&r, 0x01);
    golden_close(&r);
    return golden_end(&r);
}

static char *gen_md5_optin(void)
{
    golden_run r;
    golden_config c;
    golden_config_default(&c);
    strcpy(c.password, "legacy");
    c.allow_md5 = 1;
    begin(&r, &c, "Legacy MD5 authentication, allowed by configuration: an old client (01) gets\n"
                  "01 + 32 hex nonce and answers cnonce (32) + hex(MD5(password || nonce || cnonce)).");
    plain p = {.features = 0x01, .size = 1000, .password = "legacy"};
    upload(&r, &p);
    return golden_end(&r);
}

static char *gen_gzip_one_byte(void)
{
    golden_run r;
    golden_config c;
    golden_config_default(&c);
    c.caps = EOTA_BACKEND_CAP_GZIP;
    begin(&r, &c, "Gzip negotiation, one-byte reply: backend takes gzip, client 03 (gzip + SHA-256,\n"
                  "not extended): 46. Size and MD5 cover the bytes as sent.");
    plain p = {.features = 0x03, .size = 9000};
    upload(&r, &p);
    return golden_end(&r);
}

static char *gen_gzip_extended(void)
{
    golden_run r;
    golden_config c;
    golden_config_default(&c);
    c.caps = EOTA_BACKEND_CAP_GZIP;
    begin(&r, &c, "Gzip negotiation, extended reply: backend takes gzip, client 07: 48 01.");
    plain p = {.features = 0x07, .size = 9000};
    upload(&r, &p);
    return golden_end(&r);
}

static char *gen_type01_refused(void)
{
    golden_run r;
    golden_config c;
    golden_config_default(&c);
    begin(&r, &c, "Extended client asks for OTA type 01 (partition table), backend cannot: 8E after\n"
                  "the size; STARTED then ERROR 8E; the backend is never begun.");
    send_magic(&r);
    send_byte(&r, 0x07);
    send_byte(&r, 0x01);
    send_size(&r, 3072);
    golden_close(&r);
    return golden_end(&r);
}

static char *gen_type01_accepted(void)
{
    golden_run r;
    golden_config c;
    golden_config_default(&c);
    c.caps = EOTA_BACKEND_CAP_PARTITION_TABLE;
    begin(&r, &c, "OTA type 01 with a backend that can write partition tables: server flag 02, 42.");
    plain p = {.features = 0x07, .type = 0x01, .size = 3072};
    upload(&r, &p);
    return golden_end(&r);
}

static char *gen_md5_mismatch(void)
{
    golden_run r;
    golden_config c;
    golden_config_default(&c);
    begin(&r, &c, "The announced MD5 is wrong: 44 when all bytes are in, then 8B in place of 45;\n"
                  "the backend is aborted, nothing committed.");
    plain p = {.features = 0x07, .size = 20000, .bad_md5 = 1};
    send_magic(&r);
    send_byte(&r, p.features);
    send_byte(&r, 0x00);
    send_size(&r, p.size);
    golden_send(&r, "\"00000000000000000000000000000000\"");
    send_image(&r, p.size);
    golden_close(&r);
    return golden_end(&r);
}

static char *gen_too_big(void)
{
    golden_run r;
    golden_config c;
    golden_config_default(&c);
    c.capacity = 10000;
    begin(&r, &c, "Image too big for the backend (10000 bytes): the backend's code, 89 (ESP32).");
    send_magic(&r);
    send_byte(&r, 0x07);
    send_byte(&r, 0x00);
    send_size(&r, 20000);
    golden_close(&r);
    return golden_end(&r);
}

static char *gen_bad_magic(void)
{
    golden_run r;
    golden_config c;
    golden_config_default(&c);
    begin(&r, &c, "Not an OTA peer (an HTTP request): 80, no event.");
    golden_send(&r, "\"GET /\"");
    golden_close(&r);
    return golden_end(&r);
}

static char *gen_final_ack_timeout(void)
{
    golden_run r;
    golden_config c;
    golden_config_default(&c);
    begin(&r, &c, "The final 00 never comes: the device waits at most 1 s, then reboots anyway.");
    send_magic(&r);
    send_byte(&r, 0x07);
    send_byte(&r, 0x00);
    send_size(&r, 1000);
    send_md5(&r, 1000);
    send_image(&r, 1000);
    golden_wait(&r, 999);
    golden_wait(&r, 1);
    return golden_end(&r);
}

static char *gen_encryption_key_client(void)
{
    golden_run r;
    golden_config c;
    golden_config_default(&c);
    begin(&r, &c, "A stock uploader holding an encryption key sends 0F; eota offers no Noise\n"
                  "(server bit 04 clear, reserved 08/10 never set), and the plain upload goes on.");
    plain p = {.features = 0x0F, .size = 1000};
    upload(&r, &p);
    return golden_end(&r);
}

/* ---------- the table: file, generator, device bytes by hand ---------- */

typedef struct golden_case {
    const char *file;
    char *(*gen)(void);
    const char *spec_device_bytes; /* from PROTOCOL.md section 2, by hand */
} golden_case;

static const golden_case CASES[] = {
    {"v1.txt", gen_v1, "00 01 48 00 41 42 43 44 45"},
    {"v2.txt", gen_v2, "00 02 48 00 41 42 43 47 47 47 44 45"},
    {"no_password.txt", gen_no_password, "00 02 40 41 42 43 47 47 47 44 45"},
    {"sha256_auth.txt", gen_sha256_auth, "00 02 48 00 02 \"" NONCE64_0 "\" 41 42 43 47 44 45"},
    {"wrong_password.txt", gen_wrong_password, "00 02 48 00 02 \"" NONCE64_0 "\" 82"},
    {"sha256_required.txt", gen_sha256_required, "00 02 40 82"},
    {"md5_optin.txt", gen_md5_optin, "00 02 40 01 \"" NONCE32_0 "\" 41 42 43 47 44 45"},
    {"gzip_one_byte.txt", gen_gzip_one_byte, "00 02 46 41 42 43 47 47 44 45"},
    {"gzip_extended.txt", gen_gzip_extended, "00 02 48 01 41 42 43 47 47 44 45"},
    {"type01_refused.txt", gen_type01_refused, "00 02 48 00 41 8E"},
    {"type01_accepted.txt", gen_type01_accepted, "00 02 48 02 41 42 43 47 44 45"},
    {"md5_mismatch.txt", gen_md5_mismatch, "00 02 48 00 41 42 43 47 47 47 44 8B"},
    {"too_big.txt", gen_too_big, "00 02 48 00 41 89"},
    {"bad_magic.txt", gen_bad_magic, "80"},
    {"final_ack_timeout.txt", gen_final_ack_timeout, "00 02 48 00 41 42 43 47 44 45"},
    {"encryption_key_client.txt", gen_encryption_key_client, "00 02 48 00 41 42 43 47 44 45"},
};
#define NCASES (sizeof CASES / sizeof CASES[0])

static char *path_of(const char *file)
{
    gbuf b = {0};
    gbuf_printf(&b, "%s%s", GOLDEN_DIR, file);
    return gbuf_take(&b);
}

/* First differing line, for the failure message. */
static void report_diff(const char *file, const char *want, const char *got)
{
    int line = 1;
    const char *a = want, *b = got;
    while (*a && *a == *b) {
        if (*a == '\n')
            line++;
        a++;
        b++;
    }
    while (a > want && a[-1] != '\n')
        a--, b--;
    const char *ea = strchr(a, '\n'), *eb = strchr(b, '\n');
    fprintf(stderr, "%s: differs at line %d\n  file:   %.*s\n  engine: %.*s\n", file, line,
            (int)(ea ? ea - a : (long)strlen(a)), a, (int)(eb ? eb - b : (long)strlen(b)), b);
}

static int regen(void)
{
    const char *e = getenv("EOTA_REGEN_GOLDEN");
    return e && *e && strcmp(e, "0") != 0;
}

/* Runs first: in generator mode, writes the files. */
static void test_generate_or_compare_generator(void **state)
{
    (void)state;
    int bad = 0;
    for (size_t i = 0; i < NCASES; i++) {
        char *path = path_of(CASES[i].file);
        char *text = CASES[i].gen();
        if (regen()) {
            assert_int_equal(golden_write_file(path, text), 0);
            fprintf(stderr, "  wrote %s\n", path);
        } else {
            char *file = golden_read_file(path);
            if (!file) {
                fprintf(stderr, "%s: missing (run with EOTA_REGEN_GOLDEN=1)\n", path);
                bad++;
            } else if (strcmp(file, text) != 0) {
                report_diff(CASES[i].file, file, text);
                bad++;
            }
            free(file);
        }
        free(text);
        free(path);
    }
    assert_int_equal(bad, 0);
}

static void test_replay_golden_files(void **state)
{
    (void)state;
    int bad = 0;
    for (size_t i = 0; i < NCASES; i++) {
        char *path = path_of(CASES[i].file);
        char *file = golden_read_file(path);
        assert_non_null(file);
        char err[256] = "";
        char *got = golden_replay(file, err, sizeof err);
        if (!got) {
            fprintf(stderr, "%s: %s\n", CASES[i].file, err);
            bad++;
        } else if (strcmp(got, file) != 0) {
            report_diff(CASES[i].file, file, got);
            bad++;
        }
        free(got);
        free(file);
        free(path);
    }
    assert_int_equal(bad, 0);
}

static void test_golden_device_bytes_match_spec(void **state)
{
    (void)state;
    int bad = 0;
    for (size_t i = 0; i < NCASES; i++) {
        char *path = path_of(CASES[i].file);
        char *file = golden_read_file(path);
        assert_non_null(file);
        gbuf got = {0}, want = {0}, gs = {0}, ws = {0};
        assert_int_equal(golden_device_bytes(file, &got), 0);
        assert_int_equal(golden_parse_tokens(CASES[i].spec_device_bytes, &want), 0);
        hex_spaced(&gs, got.p, got.len);
        hex_spaced(&ws, want.p, want.len);
        if (strcmp(gbuf_cstr(&gs), gbuf_cstr(&ws)) != 0) {
            fprintf(stderr, "%s: device bytes\n  file: %s\n  spec: %s\n", CASES[i].file, gbuf_cstr(&gs),
                    gbuf_cstr(&ws));
            bad++;
        }
        gbuf_free(&got);
        gbuf_free(&want);
        gbuf_free(&gs);
        gbuf_free(&ws);
        free(file);
        free(path);
    }
    assert_int_equal(bad, 0);
}

/* The v2 file is PROTOCOL.md's worked example, in its order:
 * C 6C 26 F7 5C 45 . D 00 02 . C 07 . D 48 00 . D 41 . C 00 (type) .
 * C 00 00 4E 20 . D 42 . C 32 hex . D 43 . C 8192 B . D 47 . C 8192 B .
 * D 47 . C 3616 B . D 47 . D 44 . D 45 . C 00. */
static void test_v2_is_the_worked_example(void **state)
{
    (void)state;
    char md5[33], md5line[64];
    pattern_md5_hex(md5, 20000);
    snprintf(md5line, sizeof md5line, "C: \"%s\"", md5);
    const char *want[] = {
        "C: 6C 26 F7 5C 45", "D: 00 02", "C: 07", "D: 48 00", "D: 41", "C: 00", "C: 00 00 4E 20", "D: 42",
        md5line, "D: 43", "C: <data 8192 bytes from offset 0>", "D: 47", "C: <data 8192 bytes from offset 8192>",
        "D: 47", "C: <data 3616 bytes from offset 16384>", "D: 47", "D: 44", "D: 45", "C: 00",
    };
    char *path = path_of("v2.txt");
    char *file = golden_read_file(path);
    assert_non_null(file);
    size_t n = 0;
    const char *s = file;
    while (*s) {
        const char *e = strchr(s, '\n');
        size_t len = e ? (size_t)(e - s) : strlen(s);
        if (len >= 3 && (strncmp(s, "C: ", 3) == 0 || strncmp(s, "D: ", 3) == 0)) {
            assert_true(n < sizeof want / sizeof want[0]);
            char line[128];
            assert_true(len < sizeof line);
            memcpy(line, s, len);
            line[len] = 0;
            assert_string_equal(line, want[n]);
            n++;
        }
        s += len;
        if (*s == '\n')
            s++;
    }
    assert_int_equal(n, sizeof want / sizeof want[0]);
    assert_non_null(strstr(file, "\nend: idle, connection closed 1 time(s), reboot requested 1 time(s)\n"));
    assert_non_null(strstr(file, " committed=1 committed_len=20000 image=pattern aborted=0 "));
    assert_non_null(strstr(file, "\nevents: STARTED 0/20000, COMPLETED 20000/20000\n"));
    free(file);
    free(path);
}

/* Every outcome line a reader relies on, for the failure transcripts. */
static void test_failure_outcomes(void **state)
{
    (void)state;
    static const struct {
        const char *file, *needle;
    } t[] = {
        {"wrong_password.txt", "\nevents: ERROR code=82 0/0\n"},
        {"wrong_password.txt", "result: begin=0 committed=0 "},
        {"sha256_required.txt", "\nevents: ERROR code=82 0/0\n"},
        {"type01_refused.txt", "\nevents: STARTED 0/3072, ERROR code=8E 0/3072\n"},
        {"type01_refused.txt", "result: begin=0 committed=0 "},
        {"md5_mismatch.txt", "\nevents: STARTED 0/20000, ERROR code=8B 20000/20000\n"},
        {"md5_mismatch.txt", " committed=0 committed_len=0 image=none aborted=1 "},
        {"too_big.txt", "\nevents: STARTED 0/20000, ERROR code=89 0/20000\n"},
        {"too_big.txt", "result: begin=1 committed=0 committed_len=0 image=none aborted=0 begin_size=20000 "},
        {"bad_magic.txt", "\nevents: none\n"},
        {"gzip_extended.txt", " begin_gzip=1\n"},
        {"gzip_one_byte.txt", " begin_gzip=1\n"},
        {"v2.txt", " begin_gzip=0\n"},
        {"type01_accepted.txt", " begin_type=01 "},
        {"md5_optin.txt", " auth=md5 "},
        {"sha256_auth.txt", " auth=sha256 "},
        {"final_ack_timeout.txt", "T: +999 ms\nS: busy, reboot requested 0 time(s)\nT: +1 ms\nS: idle, reboot requested 1 time(s)\n"},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        char *path = path_of(t[i].file);
        char *file = golden_read_file(path);
        assert_non_null(file);
        if (!strstr(file, t[i].needle))
            fprintf(stderr, "%s lacks: %s\n", t[i].file, t[i].needle);
        assert_non_null(strstr(file, t[i].needle));
        free(file);
        free(path);
    }
}

/* Every file in tests/golden/ is checked by this program. */
static void test_no_unchecked_files(void **state)
{
    (void)state;
    DIR *d = opendir(GOLDEN_DIR);
    assert_non_null(d);
    struct dirent *e;
    int unknown = 0;
    while ((e = readdir(d)) != NULL) {
        size_t n = strlen(e->d_name);
        if (n < 4 || strcmp(e->d_name + n - 4, ".txt") != 0)
            continue;
        int known = 0;
        for (size_t i = 0; i < NCASES; i++)
            known |= strcmp(CASES[i].file, e->d_name) == 0;
        if (!known) {
            fprintf(stderr, "tests/golden/%s is not checked by any case\n", e->d_name);
            unknown++;
        }
    }
    closedir(d);
    assert_int_equal(unknown, 0);
}

/* The replay is not blind: a changed device byte, a changed client byte, a
 * swapped order or a changed outcome line all make it differ. */
static void test_replay_detects_tampering(void **state)
{
    (void)state;
    char *path = path_of("v2.txt");
    char *file = golden_read_file(path);
    assert_non_null(file);
    static const struct {
        const char *from, *to;
    } edits[] = {
        {"D: 45\n", "D: 46\n"},                              /* device byte */
        {"D: 48 00\nD: 41\n", "D: 41\nD: 48 00\n"},          /* order */
        {"C: 07\n", "C: 03\n"},                              /* client byte */
        {"C: <data 3616 bytes from offset 16384>\n", "C: <data 3615 bytes from offset 16384>\n"},
        {"COMPLETED 20000/20000", "COMPLETED 20000/20001"},  /* outcome */
        {"reboot requested 1 time(s)", "reboot requested 0 time(s)"},
    };
    for (size_t i = 0; i < sizeof edits / sizeof edits[0]; i++) {
        const char *at = strstr(file, edits[i].from);
        assert_non_null(at);
        gbuf t = {0};
        gbuf_put(&t, file, (size_t)(at - file));
        gbuf_str(&t, edits[i].to);
        gbuf_str(&t, at + strlen(edits[i].from));
        char err[256] = "";
        char *got = golden_replay(gbuf_cstr(&t), err, sizeof err);
        assert_non_null(got);
        assert_string_not_equal(got, gbuf_cstr(&t));
        free(got);
        gbuf_free(&t);
    }
    /* a syntax error is reported, not ignored */
    char err[256] = "";
    assert_null(golden_replay("config: version=2 password=\"\" allow_md5=0 caps=00 capacity=1048576 too_big=89 "
                              "xfer=4096\nC: 6C 2\n",
                              err, sizeof err));
    assert_true(strlen(err) > 0);
    assert_null(golden_replay("X: nonsense\n", err, sizeof err));
    free(file);
    free(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_generate_or_compare_generator),
        cmocka_unit_test(test_replay_golden_files),
        cmocka_unit_test(test_golden_device_bytes_match_spec),
        cmocka_unit_test(test_v2_is_the_worked_example),
        cmocka_unit_test(test_failure_outcomes),
        cmocka_unit_test(test_no_unchecked_files),
        cmocka_unit_test(test_replay_detects_tampering),
    };
    return cmocka_run_group_tests_name("server_golden", tests, NULL, NULL);
}
