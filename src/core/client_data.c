/*
 * client_data.c: the uploader engine's data phase (PROTOCOL.md section 2,
 * after 43). Image bytes are read from the caller (at an offset) into the
 * caller's buffer and written from there, never more than `window` 8 KiB
 * blocks beyond the last CHUNK_OK on a version-2 device, while the
 * device's bytes (47 for each block, 44 once it has every byte, 45 once it
 * checked and installed the image, or an error) are consumed as they come;
 * after 45 our final 00 goes out (client_poll.c waits for it to leave).
 * Inside Noise the writes go through client_noise.c.
 */
#include "eota/client.h"

#if EOTA_WITH_CLIENT

#include "client_int.h"

static uint32_t acks_expected(const eota_client *c)
{
    return (c->img.size + EOTA_BLOCK_SIZE - 1) / EOTA_BLOCK_SIZE;
}

/* Image bytes the window lets us have sent by now. */
static uint32_t send_limit(const eota_client *c)
{
    if (c->version < EOTA_VERSION_2)
        return c->img.size;
    uint64_t lim = ((uint64_t)c->acks + c->cfg.window) * EOTA_BLOCK_SIZE;
    return lim < c->img.size ? (uint32_t)lim : c->img.size;
}

int eota_cl_can_send(const eota_client *c)
{
    return c->state == ST_DATA && (c->buf_pos < c->buf_len || c->fetched < send_limit(c));
}

/* A 47 counts only for a block the device can have received whole: every
 * byte of it was sent (the last block may be short). */
static int ack_due(const eota_client *c)
{
    uint64_t end = ((uint64_t)c->acks + 1) * EOTA_BLOCK_SIZE;
    if (end > c->img.size)
        end = c->img.size;
    return c->acks < acks_expected(c) && c->sent >= end;
}

/* 44 only once every byte went out and, on a version-2 device, after every
 * 47 the image size calls for: a device that skipped one did not say it
 * had the image. */
static int receive_due(const eota_client *c)
{
    return c->sent == c->img.size && (c->version < EOTA_VERSION_2 || c->acks == acks_expected(c));
}

static void on_data_byte(eota_client *c, uint8_t b)
{
    if (c->state == ST_DATA) {
        if (b == EOTA_RESP_CHUNK_OK && ack_due(c)) {
            c->acks++;
        } else if (b == EOTA_RESP_RECEIVE_OK && receive_due(c)) {
            c->received = 1;
            c->state = ST_VERIFY;
        } else {
            eota_cl_unexpected(c, b);
        }
    } else if (c->state == ST_VERIFY) {
        if (b == EOTA_RESP_UPDATE_END_OK) {
            uint8_t ok = EOTA_RESP_OK;
            c->committed = 1;
            eota_cl_queue(c, &ok, 1);
            c->state = ST_FINAL;
            c->final_ms = eota_cl_now(c);
        } else {
            eota_cl_unexpected(c, b);
        }
    }
}

int eota_cl_data_read(eota_client *c)
{
    uint8_t tmp[64];
    long n = c->wire.transport->read(c->wire.conn, tmp, sizeof tmp);
    if (n == EOTA_AGAIN || n == 0)
        return 0;
    if (n < 0) {
        eota_cl_read_failed(c, n);
        return 0;
    }
    if ((size_t)n > sizeof tmp)
        n = (long)sizeof tmp;
    c->activity_ms = eota_cl_now(c);
    for (long i = 0; i < n && (c->state == ST_DATA || c->state == ST_VERIFY); i++)
        on_data_byte(c, tmp[i]);
    /* Anything after 45 is ignored: nothing more is expected. */
    return 1;
}

int eota_cl_refill(eota_client *c)
{
    if (c->buf_pos < c->buf_len)
        return 1;
    uint32_t lim = send_limit(c);
    if (c->fetched >= lim)
        return 0;
    size_t n = lim - c->fetched;
    if (n > c->buf_size)
        n = c->buf_size;
    if (c->img.read(c->img.ctx, c->fetched, c->buf, n) != EOTA_OK) {
        eota_cl_fail(c, EOTA_CLIENT_ERR_IMAGE, 0);
        return 0;
    }
    c->buf_pos = 0;
    c->buf_len = n;
    c->fetched += (uint32_t)n;
    return 1;
}

void eota_cl_advance(eota_client *c, size_t n)
{
    c->buf_pos += n;
    c->sent += (uint32_t)n;
}

int eota_cl_data_write(eota_client *c)
{
    if (c->encrypted)
        return eota_cl_noise_data_write(c);
    if (!eota_cl_refill(c))
        return 0;
    long w = c->wire.transport->write(c->wire.conn, c->buf + c->buf_pos, c->buf_len - c->buf_pos);
    if (w == EOTA_AGAIN || w == 0)
        return 0;
    if (w < 0) {
        eota_cl_transport_failed(c, w);
        return 0;
    }
    if ((size_t)w > c->buf_len - c->buf_pos)
        w = (long)(c->buf_len - c->buf_pos);
    eota_cl_advance(c, (size_t)w);
    c->activity_ms = eota_cl_now(c);
    return 1;
}

#endif /* EOTA_WITH_CLIENT */
