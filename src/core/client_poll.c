/*
 * client_poll.c: driving the uploader engine: eota_client_poll runs the
 * step the state calls for (a handshake field, the Noise handshake, the
 * data phase) until nothing moves or its budget is spent, after sending
 * what is queued and checking the timeouts; eota_client_wants and
 * eota_client_timeout_ms tell the integrator what to wait for, and how
 * long. The engine never waits itself.
 */
#include "eota/client.h"

#if EOTA_WITH_CLIENT

#include "client_int.h"

/* Work done per eota_client_poll call at most: a build option (eota/opt.h). */
#define POLL_BUDGET EOTA_CLIENT_POLL_BUDGET

static int flush(eota_client *c)
{
    long err;
    int moved = eota_wire_flush(&c->wire, &err);
    if (err == 0)
        moved |= eota_cl_noise_flush(c, &err);
    if (err == 0)
        return moved;
    if (c->state == ST_FINAL)
        eota_cl_succeed(c); /* the final 00 is optional */
    else
        eota_cl_transport_failed(c, err);
    return moved;
}

static int check_timeouts(eota_client *c)
{
    uint32_t t = eota_cl_now(c);
    switch (c->state) {
    case ST_DATA:
    case ST_VERIFY:
        if (t - c->activity_ms >= c->cfg.data_timeout_ms) {
            eota_cl_fail(c, EOTA_CLIENT_ERR_TIMEOUT, 0);
            return 1;
        }
        return 0;
    case ST_FINAL:
        if (t - c->final_ms >= EOTA_CLIENT_FINAL_ACK_MS) {
            eota_cl_succeed(c);
            return 1;
        }
        return 0;
    case ST_IDLE:
    case ST_END: return 0;
    default:
        if (t - c->start_ms >= c->cfg.handshake_timeout_ms) {
            eota_cl_fail(c, EOTA_CLIENT_ERR_TIMEOUT, 0);
            return 1;
        }
        return 0;
    }
}

/* The step of the current state: 1 when something moved. */
static int step(eota_client *cl)
{
    int progress = 0;
    switch (cl->state) {
    case ST_HELLO_CODE:
    case ST_HELLO_VERSION:
    case ST_FEATURE_REPLY:
    case ST_FLAGS:
    case ST_AUTH_CODE:
    case ST_NONCE:
    case ST_AUTH_RESULT:
    case ST_PREPARE:
    case ST_MD5: return eota_cl_read_field(cl);
    case ST_NOISE: return eota_cl_noise_step(cl);
    case ST_WAIT_IMAGE:
        if (!cl->image_set)
            return 0;
        eota_cl_send_size(cl);
        return 1;
    case ST_DATA:
        progress = eota_cl_data_read(cl);
        if (cl->wire.conn && cl->state == ST_DATA)
            progress |= eota_cl_data_write(cl);
        return progress;
    case ST_VERIFY: return eota_cl_data_read(cl);
    case ST_FINAL:
        if (eota_cl_out_pending(cl) != 0)
            return 0;
        eota_cl_succeed(cl);
        return 1;
    default: return 0;
    }
}

eota_client_status eota_client_poll(eota_client *cl)
{
    for (int budget = 0; cl->wire.conn && budget < POLL_BUDGET; budget++) {
        int progress = flush(cl);
        if (!cl->wire.conn)
            break;
        if (check_timeouts(cl))
            break;
        progress |= step(cl);
        if (!progress)
            break;
    }
    if (cl->wire.conn && cl->replied && !cl->image_set)
        return EOTA_CLIENT_NEED_IMAGE;
    return cl->status;
}

unsigned eota_client_wants(const eota_client *cl)
{
    if (!cl->wire.conn)
        return 0;
    unsigned w = 0;
    if (eota_cl_out_pending(cl) > 0)
        w |= EOTA_WANT_WRITE;
    switch (cl->state) {
    case ST_WAIT_IMAGE:
    case ST_FINAL: break;
    case ST_DATA:
        w |= EOTA_WANT_READ;
        if (eota_cl_can_send(cl))
            w |= EOTA_WANT_WRITE;
        break;
    default: w |= EOTA_WANT_READ; break;
    }
    return w;
}

long eota_client_timeout_ms(const eota_client *cl)
{
    if (!cl->wire.conn)
        return -1;
    if (eota_cl_noise_rx_waiting(cl) && cl->state != ST_FINAL && cl->state != ST_WAIT_IMAGE)
        return 0; /* decrypted bytes wait: the socket will not wake us */
    uint32_t t = eota_cl_now(cl);
    switch (cl->state) {
    case ST_WAIT_IMAGE:
        if (cl->image_set)
            return 0;
        return eota_wire_remaining(cl->start_ms, cl->cfg.handshake_timeout_ms, t);
    case ST_DATA:
    case ST_VERIFY: return eota_wire_remaining(cl->activity_ms, cl->cfg.data_timeout_ms, t);
    case ST_FINAL: return eota_wire_remaining(cl->final_ms, EOTA_CLIENT_FINAL_ACK_MS, t);
    default: return eota_wire_remaining(cl->start_ms, cl->cfg.handshake_timeout_ms, t);
    }
}

#endif /* EOTA_WITH_CLIENT */
