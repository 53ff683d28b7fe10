/*
 * lobby.c: several handshakes at once in front of the one upload
 * (eota/lobby.h). Each place is an eota_server; this file only decides
 * which place a newcomer gets, which handshake gives way, and who may take
 * the upload slot (the claim the engines ask for once authenticated).
 */
#include "eota/lobby.h"

#define PLACES EOTA_LOBBY_PLACES

/* The nearer of two timeouts, -1 meaning none. */
static long nearer(long a, long b) { return b >= 0 && (a < 0 || b < a) ? b : a; }

/* The place holding the upload slot, or with a reboot to report; -1 none. */
static int upload_place(const eota_lobby *l)
{
    for (int i = 0; i < PLACES; i++)
        if (eota_server_authenticated(&l->place[i]) || l->place[i].reboot_pending)
            return i;
    return -1;
}

/* Place i gives way; the seams hear it as place i's. */
static void yield_place(eota_lobby *l, int i)
{
    int was = l->current;
    l->current = i;
    (void)eota_server_yield(&l->place[i]);
    l->current = was;
}

/* An engine asks for the upload slot: granted unless another place holds
 * it; the other handshakes are closed then (an upload runs: they would be
 * turned away now), while failed sessions still let their error byte go. */
static int claim(void *ctx, eota_server *srv)
{
    eota_lobby *l = ctx;
    int u = upload_place(l);
    if (u >= 0 && &l->place[u] != srv)
        return 0;
    for (int i = 0; i < PLACES; i++)
        if (&l->place[i] != srv && eota_server_busy(&l->place[i]) && !eota_server_finishing(&l->place[i]))
            yield_place(l, i);
    return 1;
}

int eota_lobby_init(eota_lobby *l, const eota_server_config *cfg, uint8_t *buf, size_t buf_size)
{
    if (!l)
        return EOTA_EINVAL;
    l->current = 0;
    for (int i = 0; i < PLACES; i++) {
        int rc = eota_server_init(&l->place[i], cfg, buf, buf_size);
        if (rc != EOTA_OK)
            return rc;
        l->place[i].claim = PLACES > 1 ? claim : NULL;
        l->place[i].claim_ctx = l;
        l->conn[i] = NULL;
        l->since[i] = 0;
    }
    return EOTA_OK;
}

int eota_lobby_set_password(eota_lobby *l, const char *password)
{
    for (int i = 0; i < PLACES; i++)
        if (eota_server_set_password(&l->place[i], password) != EOTA_OK)
            return EOTA_EINVAL; /* the first one refuses: none changed */
    return EOTA_OK;
}

int eota_lobby_set_noise_key(eota_lobby *l, const uint8_t *key, int required)
{
    for (int i = 0; i < PLACES; i++)
        if (eota_server_set_noise_key(&l->place[i], key, required) != EOTA_OK)
            return EOTA_EINVAL;
    return EOTA_OK;
}

int eota_lobby_victim(const eota_lobby *l)
{
    if (PLACES < 2 || upload_place(l) >= 0 || eota_lobby_free(l) > 0)
        return -1;
    int v = -1;
    uint32_t t = l->place[0].cfg.clock.now_ms(l->place[0].cfg.clock.ctx);
    for (int i = 0; i < PLACES; i++)
        if (v < 0 || t - l->since[i] > t - l->since[v])
            v = i;
    return v;
}

int eota_lobby_free(const eota_lobby *l)
{
    int n = 0;
    for (int i = 0; i < PLACES; i++)
        n += !eota_server_busy(&l->place[i]);
    return n;
}

/* Place i takes conn (its own accept may still turn it away). */
static int accept_at(eota_lobby *l, int i, void *conn)
{
    l->current = i;
    if (eota_server_accept(&l->place[i], conn) != EOTA_OK)
        return EOTA_EBUSY;
    l->conn[i] = conn;
    l->since[i] = l->place[i].cfg.clock.now_ms(l->place[i].cfg.clock.ctx);
    return i;
}

int eota_lobby_accept(eota_lobby *l, void *conn)
{
    int u = upload_place(l);
    if (u >= 0)
        return accept_at(l, u, conn); /* turned away, or after a lingering error byte */
    for (int i = 0; i < PLACES; i++)
        if (!eota_server_busy(&l->place[i]))
            return accept_at(l, i, conn);
    int v = eota_lobby_victim(l);
    if (v < 0)
        return accept_at(l, 0, conn); /* one place: as a single engine */
    yield_place(l, v);
    return accept_at(l, v, conn);
}

eota_server_result eota_lobby_poll(eota_lobby *l)
{
    eota_server_result r = EOTA_SERVER_IDLE;
    for (int i = 0; i < PLACES; i++) {
        l->current = i;
        eota_server_result ri = eota_server_poll(&l->place[i]);
        if (ri > r)
            r = ri;
    }
    return r;
}

long eota_lobby_timeout_ms(const eota_lobby *l)
{
    long t = -1;
    for (int i = 0; i < PLACES; i++)
        t = nearer(t, eota_server_timeout_ms(&l->place[i]));
    return t;
}

void eota_lobby_cancel(eota_lobby *l)
{
    for (int i = 0; i < PLACES; i++) {
        l->current = i;
        eota_server_cancel(&l->place[i]);
    }
}

int eota_lobby_busy(const eota_lobby *l) { return eota_lobby_free(l) < PLACES; }

int eota_lobby_uploading(const eota_lobby *l)
{
    int u = upload_place(l);
    return u >= 0 && eota_server_busy(&l->place[u]);
}

int eota_lobby_finishing(const eota_lobby *l)
{
    int u = upload_place(l);
    if (PLACES < 2) /* a single engine: its failed sessions' goodbye too */
        return eota_server_finishing(&l->place[0]);
    return u >= 0 && eota_server_finishing(&l->place[u]);
}

eota_server *eota_lobby_place(eota_lobby *l, int i) { return &l->place[i]; }

void *eota_lobby_conn(const eota_lobby *l, int i)
{
    return eota_server_busy(&l->place[i]) ? l->conn[i] : (void *)0;
}

int eota_lobby_current(const eota_lobby *l) { return l->current; }
