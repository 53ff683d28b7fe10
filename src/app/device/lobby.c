/*
 * lobby.c: the waiting room of the OTA port (lobby.h): who the engine
 * takes next, who may push a handshake out of a full engine, and the
 * wake-ups this needs.
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "device.h"
#include "eota/protocol.h"
#include "log.h"
#include "net.h"

enum { ENG_FREE, ENG_FINISHING, ENG_UPLOAD, ENG_FULL, ENG_WAIT };

static uint64_t now_ms(void) { return eota_posix_now_ms64(); }

/* The nearer of two timeouts, -1 meaning none. */
static long nearer(long a, long b) { return b >= 0 && (a < 0 || b < a) ? b : a; }

static long until(uint64_t when, uint64_t t) { return when > t ? (long)(when - t) : 0; }

void dev_lobby_init(dev_lobby *l)
{
    memset(l, 0, sizeof *l);
    backoff_init(&l->guesses);
}

/* Take waiter i out of the room (its fd stays open). */
static dev_waiter take_out(dev_lobby *l, int i)
{
    dev_waiter w = l->w[i];
    l->w[i] = l->w[--l->n];
    return w;
}

static void drop(dev_lobby *l, int i) { close(take_out(l, i).fd); }

void dev_lobby_close(dev_lobby *l)
{
    while (l->n > 0)
        drop(l, l->n - 1);
}

/* The oldest waiter of the address with the most waiters. */
static int crowded(const dev_lobby *l)
{
    int best = 0, best_count = 0;
    for (int i = 0; i < l->n; i++) {
        int count = 0;
        for (int j = 0; j < l->n; j++)
            count += strcmp(l->w[i].key, l->w[j].key) == 0;
        if (count > best_count || (count == best_count && l->w[i].since_ms < l->w[best].since_ms)) {
            best = i;
            best_count = count;
        }
    }
    return best;
}

void dev_lobby_add(dev_device *d, int fd, const struct sockaddr *sa)
{
    dev_lobby *l = &d->lobby;
    if (l->n == DEV_LOBBY_MAX) {
        int v = crowded(l);
        LOGD(DEV_TAG, "Connection from %s dropped: too many connections waiting", l->w[v].peer);
        drop(l, v);
    }
    dev_waiter *w = &l->w[l->n++];
    w->fd = fd;
    w->ready = 0;
    w->since_ms = now_ms();
    backoff_key(sa, w->key);
    net_addr_text(sa, 0, w->peer, sizeof w->peer);
}

/* 1: its magic is there; 0: not yet; -1: it closed or failed. */
static int peek(dev_waiter *w)
{
    if (w->ready)
        return 1;
    uint8_t b[EOTA_MAGIC_LEN];
    ssize_t r = recv(w->fd, b, sizeof b, MSG_PEEK | MSG_DONTWAIT);
    if (r == 0)
        return -1;
    if (r < 0)
        return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? 0 : -1;
    w->ready = r == EOTA_MAGIC_LEN;
    return w->ready;
}

/* Waiters that closed, or waited too long, leave. */
static void sweep(dev_lobby *l, uint64_t t)
{
    for (int i = l->n - 1; i >= 0; i--) {
        int p = peek(&l->w[i]);
        if (p < 0 || t - l->w[i].since_ms >= DEV_LOBBY_WAIT_MS) {
            LOGD(DEV_TAG, "Connection from %s %s", l->w[i].peer,
                 p < 0 ? "closed while waiting" : "gave up waiting");
            drop(l, i);
        }
    }
}

static int engine_state(dev_device *d)
{
    if (eota_web_busy(d->web) || eota_pull_busy(d->pull))
        return ENG_UPLOAD;
    if (eota_lobby_finishing(&d->ota))
        return ENG_FINISHING;
    if (eota_lobby_uploading(&d->ota))
        return ENG_UPLOAD;
    if (eota_lobby_free(&d->ota) > 0)
        return ENG_FREE;
    return eota_lobby_victim(&d->ota) >= 0 ? ENG_FULL : ENG_WAIT;
}

/* Handshake places held by sessions from the address key. */
static int places_of(dev_device *d, const char *key)
{
    int n = 0;
    for (int i = 0; i < EOTA_LOBBY_PLACES; i++)
        n += eota_server_busy(eota_lobby_place(&d->ota, i)) && strcmp(d->lobby.place_key[i], key) == 0;
    return n;
}

/* The next waiter for the engine, -1 none: not held back by its backoff,
 * ready ones first, then an address without a place, then the oldest. When
 * the places are full (victim >= 0), only a ready waiter whose address
 * holds no place, or only the victim's, may push the victim out. */
static int pick(dev_device *d, uint64_t t, int victim)
{
    dev_lobby *l = &d->lobby;
    int best = -1, best_rank = -1;
    for (int i = 0; i < l->n; i++) {
        const dev_waiter *w = &l->w[i];
        int held = places_of(d, w->key);
        if (backoff_wait_ms(&l->guesses, w->key, t) > 0)
            continue;
        if (victim >= 0 && (!w->ready || (held > 0 && strcmp(w->key, l->place_key[victim]) != 0)))
            continue;
        int rank = 2 * w->ready + (held == 0);
        if (rank > best_rank || (rank == best_rank && w->since_ms < l->w[best].since_ms)) {
            best = i;
            best_rank = rank;
        }
    }
    return best;
}

/* Place v's handshake gives way to a newcomer; when it had held the place
 * for DEV_LOBBY_SLOW_MS without being authenticated, its address counts a
 * failure (a reconnecting stranger slows down). */
static void give_way(dev_device *d, int v, uint64_t t)
{
    dev_lobby *l = &d->lobby;
    uint64_t held = t - l->place_since_ms[v];
    l->cutting = 1;
    if (held < DEV_LOBBY_SLOW_MS) {
        LOGD(DEV_TAG, "Handshake from %s gives way to a newer client after %llu ms", l->place_peer[v],
             (unsigned long long)held);
        return;
    }
    uint32_t delay = 0;
    int opens = backoff_failed(&l->guesses, l->place_key[v], t, &delay);
    eota_log(opens ? 2 : 4, DEV_TAG,
             "Handshake from %s not done after %llu ms: it gives way to a waiting client%s", l->place_peer[v],
             (unsigned long long)held, opens ? " (more from this address are logged at debug level)" : "");
}

static eota_posix_conn *free_conn(dev_device *d)
{
    for (int i = 0; i < DEV_CONNS - 1; i++)
        if (d->conns[i].fd < 0)
            return &d->conns[i];
    return &d->conns[DEV_CONNS - 1];
}

/* Waiter i to the engine; 1 when it took it, 0 when it turned it away. */
static int hand(dev_device *d, int i, uint64_t t)
{
    dev_lobby *l = &d->lobby;
    dev_waiter w = take_out(l, i);
    if (eota_web_busy(d->web) || eota_pull_busy(d->pull)) { /* one upload at a time */
        LOGW(DEV_TAG, "Connection from %s turned away: a %s is in progress", w.peer,
             eota_pull_busy(d->pull) ? "pull download" : "web upload");
        close(w.fd);
        return 0;
    }
    int v = eota_lobby_victim(&d->ota);
    if (v >= 0)
        give_way(d, v, t);
    eota_posix_conn *slot = free_conn(d);
    slot->fd = w.fd;
    int p = eota_lobby_accept(&d->ota, slot);
    l->cutting = 0;
    if (p < 0) { /* the engine closed it */
        LOGW(DEV_TAG, "Connection from %s turned away: an upload is in progress", w.peer);
        return 0;
    }
    LOGD(DEV_TAG, "Connection from %s", w.peer);
    memcpy(l->place_key[p], w.key, sizeof l->place_key[p]);
    memcpy(l->place_peer[p], w.peer, sizeof l->place_peer[p]);
    l->place_since_ms[p] = now_ms();
    return 1;
}

int dev_lobby_run(dev_device *d)
{
    dev_lobby *l = &d->lobby;
    uint64_t t = now_ms();
    int taken = 0;
    sweep(l, t);
    int next = pick(d, t, -1); /* a ready one if any */
    if (eota_web_busy(d->web) && next >= 0 && l->w[next].ready)
        (void)eota_web_yield(d->web); /* a stalled web upload gives way to a ready client */
    while (l->n > 0) {
        int st = engine_state(d);
        if (st == ENG_FINISHING || st == ENG_WAIT)
            break;
        if (st == ENG_UPLOAD) {
            hand(d, l->n - 1, t); /* turned away, as before the lobby */
            continue;
        }
        int i = pick(d, t, st == ENG_FULL ? eota_lobby_victim(&d->ota) : -1);
        if (i < 0)
            break;
        taken += hand(d, i, t);
    }
    return taken;
}

int dev_lobby_pollfds(const dev_device *d, struct pollfd *pfd, int room)
{
    int n = 0;
    for (int i = 0; i < d->lobby.n && n < room; i++)
        if (!d->lobby.w[i].ready)
            pfd[n++] = (struct pollfd){d->lobby.w[i].fd, POLLIN, 0};
    return n;
}

long dev_lobby_timeout_ms(dev_device *d)
{
    dev_lobby *l = &d->lobby;
    uint64_t t = now_ms();
    long best = -1;
    for (int i = 0; i < l->n; i++) {
        best = nearer(best, until(l->w[i].since_ms + DEV_LOBBY_WAIT_MS, t));
        uint64_t b = backoff_wait_ms(&l->guesses, l->w[i].key, t);
        if (b > 0)
            best = nearer(best, (long)b);
    }
    return best;
}

const char *dev_lobby_key(const dev_device *d) { return d->lobby.place_key[eota_lobby_current(&d->ota)]; }

const char *dev_lobby_peer(const dev_device *d) { return d->lobby.place_peer[eota_lobby_current(&d->ota)]; }
