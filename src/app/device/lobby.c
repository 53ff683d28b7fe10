/*
 * lobby.c: the waiting room of the OTA port (lobby.h): who the engine
 * takes next, when an idle handshake gives way, and the wake-ups this
 * needs.
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "device.h"
#include "eota/protocol.h"
#include "log.h"
#include "net.h"

enum { ENG_FREE, ENG_FINISHING, ENG_UPLOAD, ENG_HANDSHAKE };

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
    if (!eota_server_busy(&d->srv))
        return ENG_FREE;
    if (eota_server_finishing(&d->srv))
        return ENG_FINISHING;
    eota_server_info info;
    eota_server_get_info(&d->srv, &info);
    return info.size ? ENG_UPLOAD : ENG_HANDSHAKE;
}

/* The next waiter for the engine, -1 none: not held back by its backoff,
 * ready ones first (only those when need_ready), then another address than
 * avoid, then the oldest. */
static int pick(dev_lobby *l, uint64_t t, int need_ready, const char *avoid)
{
    int best = -1, best_rank = -1;
    for (int i = 0; i < l->n; i++) {
        const dev_waiter *w = &l->w[i];
        if ((need_ready && !w->ready) || backoff_wait_ms(&l->guesses, w->key, t) > 0)
            continue;
        int rank = 2 * w->ready + (strcmp(w->key, avoid) != 0);
        if (rank > best_rank || (rank == best_rank && w->since_ms < l->w[best].since_ms)) {
            best = i;
            best_rank = rank;
        }
    }
    return best;
}

/* Waiter i to the engine; 1 when it took it, 0 when it turned it away. */
static int hand(dev_device *d, int i)
{
    dev_lobby *l = &d->lobby;
    dev_waiter w = take_out(l, i);
    if (eota_web_busy(d->web) || eota_pull_busy(d->pull)) { /* one upload at a time */
        LOGW(DEV_TAG, "Connection from %s turned away: a %s is in progress", w.peer,
             eota_pull_busy(d->pull) ? "pull download" : "web upload");
        close(w.fd);
        return 0;
    }
    eota_posix_conn *slot = d->conns[0].fd < 0 ? &d->conns[0] : &d->conns[1];
    slot->fd = w.fd;
    if (eota_server_accept(&d->srv, slot) != EOTA_OK) { /* the engine closed it */
        LOGW(DEV_TAG, "Connection from %s turned away: an upload is in progress", w.peer);
        return 0;
    }
    LOGD(DEV_TAG, "Connection from %s", w.peer);
    memcpy(l->cur_key, w.key, sizeof l->cur_key);
    memcpy(l->cur_peer, w.peer, sizeof l->cur_peer);
    l->cur_since_ms = now_ms();
    return 1;
}

/* The engine's session, still without a size, gives way; its address
 * counts a failure (a reconnecting stranger slows down). */
static void cut(dev_device *d, uint64_t t)
{
    dev_lobby *l = &d->lobby;
    uint32_t delay = 0;
    int opens = backoff_failed(&l->guesses, l->cur_key, t, &delay);
    eota_log(opens ? 2 : 4, DEV_TAG,
             "Handshake from %s not done after %llu ms: it gives way to a waiting client%s", l->cur_peer,
             (unsigned long long)(t - l->cur_since_ms),
             opens ? " (more from this address are logged at debug level)" : "");
    l->cutting = 1;
    eota_server_cancel(&d->srv);
    l->cutting = 0;
}

int dev_lobby_run(dev_device *d)
{
    dev_lobby *l = &d->lobby;
    uint64_t t = now_ms();
    int taken = 0;
    sweep(l, t);
    if (eota_web_busy(d->web) && pick(l, t, 1, "") >= 0)
        (void)eota_web_yield(d->web); /* a stalled web upload gives way to a ready client */
    while (l->n > 0) {
        int st = engine_state(d);
        if (st == ENG_FINISHING)
            break;
        if (st == ENG_UPLOAD) {
            hand(d, l->n - 1); /* turned away, as before the lobby */
            continue;
        }
        int i = pick(l, t, st == ENG_HANDSHAKE, l->cur_key);
        if (i < 0 || (st == ENG_HANDSHAKE && t - l->cur_since_ms < DEV_LOBBY_PREEMPT_MS))
            break;
        if (st == ENG_HANDSHAKE)
            cut(d, t);
        taken += hand(d, i);
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
    if (l->n > 0 && engine_state(d) == ENG_HANDSHAKE && pick(l, t, 1, l->cur_key) >= 0)
        best = nearer(best, until(l->cur_since_ms + DEV_LOBBY_PREEMPT_MS, t));
    return best;
}
