/*
 * fuzz_harness.h: the input format of the device-engine fuzzer and the
 * entry point the seed generator shares with it (fuzz_server.c).
 *
 * Input: a 4-byte header, then records. After every record the engine is
 * polled once; at the end the client goes silent and time runs on until the
 * engine is idle.
 *
 * Header:
 *   [0] config   bit0 password "fuzzpass"   bit1 protocol version 1 (else 2)
 *                bit2 allow MD5 auth        bit3 backend accepts gzip
 *                bit4 backend accepts partition table and bootloader
 *                bit5 short timeouts (else the stock defaults)
 *                bit6 clock starts 10 s before the 32-bit wrap
 *   [1] inject   low 2 bits: 0 none, 1 begin fails (0x8A), 2 write fails
 *                after (high 6 bits * 97) bytes (0x83), 3 end fails (0x84)
 *   [2] backend  low 5 bits: max bytes taken per write / 3 (0: all);
 *                high 3 bits: end() reports pending this many times
 *   [3] buffer   low 2 bits: transfer buffer 64 / 100 / 4096 / 8197 bytes
 *
 * Records (t = the record's first byte):
 *   00..7F  the client sends the next t+1 bytes of the input
 *   80..9F  the client sends ((t & 1F) + 1) * 256 copies of the next byte
 *   A0..AF  reads return at most t & 0F bytes (0: no limit)
 *   B0..BF  the next t & 0F write calls return EOTA_AGAIN
 *   C0..CF  writes take at most t & 0F bytes (0: no limit)
 *   D0..EF  the clock moves ((t & 1F)^2 * 250) ms
 *   F0..F7  (t & 7) + 1 extra polls
 *   F8      the client closes its sending side (EOF after what was sent)
 *   F9      reads fail with EOTA_EIO from now on
 *   FA      writes fail with EOTA_CLOSED from now on
 *   FB      a new client connects (turned away while one is served)
 *   FC      eota_server_cancel
 *   FD      eota_server_set_password: toggles "fuzzpass" / "other" / none
 *   FE, FF  one extra poll
 */
#ifndef EOTA_FUZZ_HARNESS_H
#define EOTA_FUZZ_HARNESS_H

#include <stddef.h>
#include <stdint.h>

#define FZ_HDR_LEN 4

#define FZ_CFG_PASSWORD 0x01u
#define FZ_CFG_V1 0x02u
#define FZ_CFG_MD5 0x04u
#define FZ_CFG_GZIP 0x08u
#define FZ_CFG_PARTS 0x10u
#define FZ_CFG_SHORT_TIMEOUTS 0x20u
#define FZ_CFG_CLOCK_WRAP 0x40u

#define FZ_INJ_NONE 0u
#define FZ_INJ_BEGIN 1u
#define FZ_INJ_WRITE 2u
#define FZ_INJ_END 3u

#define FZ_OP_RUN 0x80u
#define FZ_OP_MAX_READ 0xA0u
#define FZ_OP_WRITE_AGAIN 0xB0u
#define FZ_OP_MAX_WRITE 0xC0u
#define FZ_OP_CLOCK 0xD0u
#define FZ_OP_POLLS 0xF0u
#define FZ_OP_EOF 0xF8u
#define FZ_OP_READ_ERROR 0xF9u
#define FZ_OP_WRITE_CLOSED 0xFAu
#define FZ_OP_CONNECT 0xFBu
#define FZ_OP_CANCEL 0xFCu
#define FZ_OP_PASSWORD 0xFDu
#define FZ_OP_POLL 0xFEu

#define FZ_PASSWORD "fuzzpass"
#define FZ_MAX_CONNS 8
#define FZ_OUT_MAX 4096

/* What one run did, for the seed generator's self-check. */
typedef struct fuzz_result {
    int committed;            /* successful backend end() calls */
    int reboots;              /* EOTA_SERVER_REBOOT results */
    int connections;          /* connections handed to the engine */
    uint8_t out[FZ_OUT_MAX];  /* what the engine wrote on the first one */
    size_t out_len;
    uint8_t last_error;       /* eota_server_get_info().error_code at the end */
} fuzz_result;

/* Run one input; a broken invariant aborts (the fuzzer reports it). */
void fuzz_run(const uint8_t *data, size_t size, fuzz_result *res);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#endif
