/*
 * test_noise.c: the core Noise layer (src/core/noise.c, noise_hs.c) over
 * the POSIX crypto seam: the handshake against vectors computed by an
 * independent implementation (tests/support/noise_ref.py, Python's
 * cryptography primitives), with fixed ephemeral keys; a whole session
 * both ways through an in-memory pipe, also one byte at a time; the reject
 * frame for a wrong key; bad frames (type, length, tag, tag-only); the
 * framing of writes (frame_limit, eota_noise_send) and the prologue.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "eota/noise.h"
#include "noise_fixture.h"
#include "pipe.h"

/* python3 tests/support/noise_ref.py vectors: key 01..20, initiator
 * ephemeral 11 x 32, responder 22 x 32, prologue of version 2, client
 * features 0F, server flags 04; then the device's 41, the uploader's OTA
 * type 00 and size 000003E8, each the first frame of its direction. */
static const uint8_t vec_prologue[22] = {0x4e, 0x6f, 0x69, 0x73, 0x65, 0x4f, 0x54, 0x41, 0x49, 0x6e, 0x69, 0x74, 0x6c, 0x26, 0xf7, 0x5c, 0x45, 0x00, 0x02, 0x0f, 0x48, 0x04};
static const uint8_t vec_frame1[52] = {0x01, 0x00, 0x31, 0x00, 0x7b, 0x4e, 0x90, 0x9b, 0xbe, 0x7f, 0xfe, 0x44, 0xc4, 0x65, 0xa2, 0x20, 0x03, 0x7d, 0x60, 0x8e, 0xe3, 0x58, 0x97, 0xd3, 0x1e, 0xf9, 0x72, 0xf0, 0x7f, 0x74, 0x89, 0x2c, 0xb0, 0xf7, 0x3f, 0x13, 0x93, 0x64, 0xfa, 0x1d, 0x84, 0xd2, 0xf0, 0x97, 0x7f, 0xce, 0x0f, 0x51, 0x70, 0xfb, 0x54, 0x85};
static const uint8_t vec_frame2[52] = {0x01, 0x00, 0x31, 0x00, 0x0f, 0xaa, 0x68, 0x4e, 0xd2, 0x88, 0x67, 0xb9, 0x7f, 0x4a, 0x6a, 0x2d, 0xee, 0x5d, 0xf8, 0xce, 0x97, 0x4e, 0x76, 0xb7, 0x01, 0x8e, 0x3f, 0x22, 0xa1, 0xc4, 0xcf, 0x26, 0x78, 0x57, 0x0f, 0x20, 0x94, 0x82, 0xde, 0x4d, 0x19, 0x7b, 0x4d, 0xf3, 0x99, 0x86, 0x86, 0x0a, 0xc4, 0x17, 0xe0, 0x8e};
static const uint8_t vec_dev_41[20] = {0x01, 0x00, 0x11, 0x48, 0x11, 0x8f, 0xb9, 0x78, 0x69, 0x9f, 0x8b, 0xf1, 0xd8, 0xac, 0x69, 0x52, 0x08, 0x91, 0xb8, 0xa9};
static const uint8_t vec_up_type[20] = {0x01, 0x00, 0x11, 0x98, 0x87, 0x0a, 0x65, 0x8e, 0x0d, 0x27, 0xf9, 0x09, 0x5e, 0x95, 0x39, 0xf1, 0x75, 0x75, 0xaf, 0xad};
static const uint8_t vec_up_size[23] = {0x01, 0x00, 0x14, 0xfb, 0x88, 0x4f, 0x5b, 0x07, 0xb7, 0x95, 0x8b, 0xf2, 0x1a, 0x9b, 0xaa, 0xd2, 0xd9, 0x38, 0x67, 0x7b, 0x16, 0x1c, 0x3e};

static uint8_t fill_11 = 0x11, fill_22 = 0x22;

static void key_of(uint8_t key[32], uint8_t first)
{
    for (int i = 0; i < 32; i++)
        key[i] = (uint8_t)(first + i);
}

static void session(eota_noise *nz, eota_noise_role role, uint8_t key_first, uint8_t *fill, uint16_t limit)
{
    uint8_t key[32];
    key_of(key, key_first);
    eota_noise_config cfg = {role, key, noise_fixture_seam(), {noise_fixture_fill, fill}, limit};
    assert_int_equal(eota_noise_init(nz, &cfg), EOTA_OK);
}

/* One side alone over a fresh pipe (its end: 0 initiator, 1 responder),
 * started with the vectors' prologue. */
static void lone_start(eota_noise *nz, eota_noise_role role, mem_pipe *pipe, const uint8_t *pro)
{
    int end = role == EOTA_NOISE_RESPONDER;
    mem_pipe_init(pipe, 0);
    session(nz, role, 1, end ? &fill_22 : &fill_11, end ? 1 : 0);
    assert_int_equal(eota_noise_start(nz, &mem_pipe_transport, &pipe->end[end], pro), EOTA_OK);
    assert_int_equal(eota_noise_handshake(nz), EOTA_AGAIN);
}

typedef struct pair {
    mem_pipe pipe;
    eota_noise ini, res;
} pair;

/* Both sides started over the pipe (initiator on end 0). */
static void pair_start(pair *p, uint8_t res_key_first, size_t max_io)
{
    uint8_t pro[EOTA_NOISE_PROLOGUE_LEN];
    mem_pipe_init(&p->pipe, 0);
    p->pipe.end[0].max_io = p->pipe.end[1].max_io = max_io;
    session(&p->ini, EOTA_NOISE_INITIATOR, 1, &fill_11, 0);
    session(&p->res, EOTA_NOISE_RESPONDER, res_key_first, &fill_22, 1);
    eota_noise_prologue(pro, 2, 0x0F, 0x04);
    assert_int_equal(eota_noise_start(&p->ini, &mem_pipe_transport, &p->pipe.end[0], pro), EOTA_OK);
    assert_int_equal(eota_noise_start(&p->res, &mem_pipe_transport, &p->pipe.end[1], pro), EOTA_OK);
}

/* Drive both handshakes until neither moves; their last results. */
static void pair_handshake(pair *p, int *ri, int *rr)
{
    *ri = *rr = EOTA_AGAIN;
    for (int i = 0; i < 10000 && (*ri == EOTA_AGAIN || *rr == EOTA_AGAIN); i++) {
        *ri = eota_noise_handshake(&p->ini);
        *rr = eota_noise_handshake(&p->res);
        if (*rr < 0 && *rr != EOTA_AGAIN)
            (void)eota_noise_flush(&p->res);
    }
}

static void test_prologue(void **state)
{
    (void)state;
    uint8_t pro[EOTA_NOISE_PROLOGUE_LEN];
    eota_noise_prologue(pro, 2, 0x0F, 0x04);
    assert_memory_equal(pro, vec_prologue, sizeof vec_prologue);
}

/* The initiator's first frame, byte for byte: 01 00 31 00 + message 1. */
static void test_initiator_message1_vector(void **state)
{
    (void)state;
    eota_noise ini;
    mem_pipe pipe;
    lone_start(&ini, EOTA_NOISE_INITIATOR, &pipe, vec_prologue);
    uint8_t got[sizeof vec_frame1 + 1];
    assert_int_equal(mem_pipe_transport.read(&pipe.end[1], got, sizeof got), (long)sizeof vec_frame1);
    assert_memory_equal(got, vec_frame1, sizeof vec_frame1);
    /* The reference's message 2 completes it; the reference's 41 opens. */
    assert_int_equal(mem_pipe_transport.write(&pipe.end[1], vec_frame2, sizeof vec_frame2), (long)sizeof vec_frame2);
    assert_int_equal(mem_pipe_transport.write(&pipe.end[1], vec_dev_41, sizeof vec_dev_41), (long)sizeof vec_dev_41);
    assert_int_equal(eota_noise_handshake(&ini), EOTA_OK);
    uint8_t b = 0;
    assert_int_equal(eota_noise_transport.read(&ini, &b, 1), 1);
    assert_int_equal(b, 0x41);
    /* And the uploader's first two fields are the reference's frames. */
    assert_int_equal(eota_noise_send(&ini, (const uint8_t *)"\x00", 1), EOTA_OK);
    assert_int_equal(eota_noise_send(&ini, (const uint8_t *)"\x00\x00\x03\xe8", 4), EOTA_OK);
    assert_int_equal(eota_noise_flush(&ini), 1);
    uint8_t out[64];
    assert_int_equal(mem_pipe_transport.read(&pipe.end[1], out, sizeof out), (long)(sizeof vec_up_type + sizeof vec_up_size));
    assert_memory_equal(out, vec_up_type, sizeof vec_up_type);
    assert_memory_equal(out + sizeof vec_up_type, vec_up_size, sizeof vec_up_size);
    eota_noise_transport.close(&ini);
    mem_pipe_free(&pipe);
}

/* The responder answers the reference's message 1 with the reference's
 * message 2, and its 41 and the reference's fields match. */
static void test_responder_message2_vector(void **state)
{
    (void)state;
    eota_noise res;
    mem_pipe pipe;
    lone_start(&res, EOTA_NOISE_RESPONDER, &pipe, vec_prologue);
    mem_pipe_transport.write(&pipe.end[0], vec_frame1, sizeof vec_frame1);
    mem_pipe_transport.write(&pipe.end[0], vec_up_type, sizeof vec_up_type);
    mem_pipe_transport.write(&pipe.end[0], vec_up_size, sizeof vec_up_size);
    assert_int_equal(eota_noise_handshake(&res), EOTA_OK);
    assert_int_equal(eota_noise_transport.write(&res, (const uint8_t *)"\x41\x42", 2), 1); /* one byte a frame */
    /* The frame waits for the engine's flush, so that replies made in one
     * step leave in one system call. */
    assert_int_equal(eota_noise_tx_pending(&res), sizeof vec_dev_41);
    assert_int_equal(eota_noise_flush(&res), 1);
    assert_int_equal(eota_noise_tx_pending(&res), 0);
    uint8_t got[sizeof vec_frame2 + sizeof vec_dev_41 + 1];
    assert_int_equal(mem_pipe_transport.read(&pipe.end[0], got, sizeof got), (long)(sizeof vec_frame2 + sizeof vec_dev_41));
    assert_memory_equal(got, vec_frame2, sizeof vec_frame2);
    assert_memory_equal(got + sizeof vec_frame2, vec_dev_41, sizeof vec_dev_41);
    uint8_t plain[8];
    /* Both fields in one read: plaintext crosses frame boundaries. */
    assert_int_equal(eota_noise_transport.read(&res, plain, sizeof plain), 5);
    assert_memory_equal(plain, "\x00\x00\x00\x03\xe8", 5);
    assert_int_equal(eota_noise_transport.read(&res, plain, sizeof plain), EOTA_AGAIN);
    eota_noise_transport.close(&res);
    assert_int_equal(pipe.end[1].closed, 1);
    mem_pipe_free(&pipe);
}

/* A whole session both ways, with every transfer cut to max_io bytes. */
static void run_session(size_t max_io)
{
    pair p;
    int ri, rr;
    pair_start(&p, 1, max_io);
    pair_handshake(&p, &ri, &rr);
    assert_int_equal(ri, EOTA_OK);
    assert_int_equal(rr, EOTA_OK);
    static uint8_t img[5000], got[5000];
    for (size_t i = 0; i < sizeof img; i++)
        img[i] = (uint8_t)(i * 7);
    size_t sent = 0, recvd = 0;
    for (int guard = 0; guard < 200000 && recvd < sizeof img; guard++) {
        if (sent < sizeof img) {
            long n = eota_noise_transport.write(&p.ini, img + sent, sizeof img - sent);
            assert_true(n > 0 || n == EOTA_AGAIN);
            if (n > 0) {
                assert_true(n <= (long)EOTA_NOISE_MAX_PLAINTEXT);
                sent += (size_t)n;
            }
        }
        (void)eota_noise_flush(&p.ini);
        long m = eota_noise_transport.read(&p.res, got + recvd, sizeof got - recvd);
        assert_true(m > 0 || m == EOTA_AGAIN);
        if (m > 0)
            recvd += (size_t)m;
    }
    assert_int_equal(recvd, sizeof img);
    assert_memory_equal(got, img, sizeof img);
    /* Device replies, one frame each, read by the uploader. */
    for (int i = 0; i < 3; i++)
        while (eota_noise_transport.write(&p.res, (const uint8_t *)"\x47", 1) == EOTA_AGAIN)
            (void)eota_noise_transport.read(&p.ini, got, 0);
    uint8_t acks[3];
    size_t have = 0;
    for (int guard = 0; guard < 10000 && have < 3; guard++) {
        (void)eota_noise_flush(&p.res);
        long m = eota_noise_transport.read(&p.ini, acks + have, 3 - have);
        if (m > 0)
            have += (size_t)m;
    }
    assert_int_equal(have, 3);
    assert_memory_equal(acks, "\x47\x47\x47", 3);
    eota_noise_transport.close(&p.ini);
    eota_noise_transport.close(&p.res);
    mem_pipe_free(&p.pipe);
}

static void test_session_whole(void **state) { (void)state; run_session(0); }
static void test_session_one_byte_at_a_time(void **state) { (void)state; run_session(1); }
static void test_session_odd_pieces(void **state) { (void)state; run_session(7); }

/* A wrong key: the responder sends exactly the reject frame of
 * PROTOCOL.md, the initiator reports it with its text. */
static void test_wrong_key_reject_frame(void **state)
{
    (void)state;
    pair p;
    int ri, rr;
    pair_start(&p, 2, 0);
    assert_int_equal(eota_noise_handshake(&p.ini), EOTA_AGAIN); /* message 1 leaves */
    assert_int_equal(eota_noise_handshake(&p.res), EOTA_ECRYPTO);
    assert_int_equal(eota_noise_failure(&p.res), EOTA_NOISE_FAIL_MAC);
    assert_string_equal(eota_noise_reason(&p.res), "Handshake MAC failure");
    uint8_t want[] = "\x01\x00\x16\x01Handshake MAC failure";
    assert_int_equal(eota_noise_tx_pending(&p.res), sizeof want - 1);
    assert_memory_equal(p.res.private_tx, want, sizeof want - 1);
    pair_handshake(&p, &ri, &rr);
    assert_int_equal(ri, EOTA_ECRYPTO);
    assert_int_equal(eota_noise_failure(&p.ini), EOTA_NOISE_FAIL_REJECTED);
    assert_string_equal(eota_noise_reason(&p.ini), "Handshake MAC failure");
    /* Nothing more goes through a failed session. */
    assert_true(eota_noise_transport.write(&p.res, (const uint8_t *)"A", 1) < 0);
    assert_true(eota_noise_send(&p.ini, (const uint8_t *)"A", 1) < 0);
    eota_noise_transport.close(&p.ini);
    eota_noise_transport.close(&p.res);
    mem_pipe_free(&p.pipe);
}

/* The responder's handshake read refuses malformed frames with a reject. */
static void responder_refuses(const uint8_t *frame, size_t len, const char *reason)
{
    eota_noise res;
    mem_pipe pipe;
    lone_start(&res, EOTA_NOISE_RESPONDER, &pipe, vec_prologue);
    mem_pipe_transport.write(&pipe.end[0], frame, len);
    int r = eota_noise_handshake(&res);
    assert_true(r < 0 && r != EOTA_AGAIN);
    assert_int_equal(eota_noise_failure(&res), EOTA_NOISE_FAIL_FRAME);
    assert_string_equal(eota_noise_reason(&res), reason);
    assert_int_equal(res.private_tx[3], EOTA_NOISE_HS_REJECT);
    eota_noise_transport.close(&res);
    mem_pipe_free(&pipe);
}

static void test_responder_bad_handshake_frames(void **state)
{
    (void)state;
    responder_refuses((const uint8_t *)"\x01\x00\x00", 3, "Empty handshake message");
    responder_refuses((const uint8_t *)"\x01\x00\x02\x05\x00", 5, "Bad handshake error byte");
    responder_refuses((const uint8_t *)"\x01\x00\x03\x00\x01\x02", 6, "Handshake error");   /* short */
    responder_refuses((const uint8_t *)"\x01\x00\x82", 3, "Handshake error");               /* 130 > 129 */
    responder_refuses((const uint8_t *)"\x02\x00\x31", 3, "Handshake error");               /* type */
}

/* After the handshake: a frame with a changed tag, a tag alone, a too
 * long frame and a bad type each end the session on read. */
static void transport_refuses_read(const uint8_t *frame, size_t len, eota_noise_failure_kind kind, size_t want)
{
    pair p;
    int ri, rr;
    pair_start(&p, 1, 0);
    pair_handshake(&p, &ri, &rr);
    assert_int_equal(rr, EOTA_OK);
    mem_pipe_transport.write(&p.pipe.end[0], frame, len);
    static uint8_t b[4096];
    assert_int_equal(eota_noise_transport.read(&p.res, b, want), EOTA_EIO);
    assert_int_equal(eota_noise_failure(&p.res), kind);
    assert_int_equal(eota_noise_transport.read(&p.res, b, want), EOTA_EIO); /* sticky */
    eota_noise_transport.close(&p.ini);
    eota_noise_transport.close(&p.res);
    mem_pipe_free(&p.pipe);
}

/* Both ways in: a small read (frame by frame through the session's
 * buffer) and a large one (the bulk way, in the caller's buffer). */
static void transport_refuses(const uint8_t *frame, size_t len, eota_noise_failure_kind kind)
{
    transport_refuses_read(frame, len, kind, 8);
    transport_refuses_read(frame, len, kind, 4096);
}

static void test_transport_bad_frames(void **state)
{
    (void)state;
    uint8_t bad_tag[sizeof vec_up_type];
    memcpy(bad_tag, vec_up_type, sizeof bad_tag);
    bad_tag[sizeof bad_tag - 1] ^= 1;
    transport_refuses(bad_tag, sizeof bad_tag, EOTA_NOISE_FAIL_TAG);
    uint8_t tag_only[3 + 16] = {0x01, 0x00, 0x10};
    transport_refuses(tag_only, sizeof tag_only, EOTA_NOISE_FAIL_FRAME);
    transport_refuses((const uint8_t *)"\x01\x04\x11", 3, EOTA_NOISE_FAIL_FRAME); /* 1041 > 1040 */
    transport_refuses((const uint8_t *)"\x00\x00\x11", 3, EOTA_NOISE_FAIL_FRAME);
    /* The peer closing is EOTA_CLOSED, not a frame error. */
    pair p;
    int ri, rr;
    pair_start(&p, 1, 0);
    pair_handshake(&p, &ri, &rr);
    mem_pipe_transport.close(&p.pipe.end[0]);
    uint8_t b[4];
    assert_int_equal(eota_noise_transport.read(&p.res, b, sizeof b), EOTA_CLOSED);
    assert_int_equal(eota_noise_failure(&p.res), EOTA_NOISE_FAIL_IO);
    eota_noise_transport.close(&p.res);
    mem_pipe_free(&p.pipe);
}

static void test_config_checks(void **state)
{
    (void)state;
    eota_noise nz;
    uint8_t zero[32] = {0}, key[32];
    key_of(key, 1);
    eota_noise_config cfg = {EOTA_NOISE_RESPONDER, zero, noise_fixture_seam(), {noise_fixture_fill, &fill_22}, 1};
    assert_int_equal(eota_noise_key_is_zero(zero), 1);
    assert_int_equal(eota_noise_key_is_zero(key), 0);
    assert_int_equal(eota_noise_init(&nz, &cfg), EOTA_EINVAL); /* all-zero key */
    cfg.psk = key;
    cfg.frame_limit = 1025;
    assert_int_equal(eota_noise_init(&nz, &cfg), EOTA_EINVAL);
    cfg.frame_limit = 0;
    assert_int_equal(eota_noise_init(&nz, &cfg), EOTA_OK);
    assert_int_equal(eota_noise_send(&nz, key, 1), EOTA_EINVAL); /* no session yet */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_prologue),
        cmocka_unit_test(test_initiator_message1_vector),
        cmocka_unit_test(test_responder_message2_vector),
        cmocka_unit_test(test_session_whole),
        cmocka_unit_test(test_session_one_byte_at_a_time),
        cmocka_unit_test(test_session_odd_pieces),
        cmocka_unit_test(test_wrong_key_reject_frame),
        cmocka_unit_test(test_responder_bad_handshake_frames),
        cmocka_unit_test(test_transport_bad_frames),
        cmocka_unit_test(test_config_checks),
    };
    return cmocka_run_group_tests(tests, noise_fixture_setup, noise_fixture_teardown);
}
