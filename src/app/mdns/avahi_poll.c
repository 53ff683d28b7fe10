/*
 * avahi_poll.c: AvahiPoll over our poll loop (avahi_poll.h). Watches and
 * timeouts are kept in lists; one freed by Avahi inside a callback is only
 * marked dead, and unlinked after the turn.
 */
#include "mdns/avahi_poll.h"

#include <stdlib.h>
#include <sys/time.h>


struct AvahiWatch {
    mdns_apoll *p;
    int fd, dead;
    AvahiWatchEvent events, revents;
    AvahiWatchCallback cb;
    void *ud;
    struct AvahiWatch *next;
};

struct AvahiTimeout {
    mdns_apoll *p;
    int dead, armed;
    struct timeval when;
    AvahiTimeoutCallback cb;
    void *ud;
    struct AvahiTimeout *next;
};

struct mdns_apoll {
    AvahiPoll api;
    AvahiWatch *watches;
    AvahiTimeout *timeouts;
};

static AvahiWatch *watch_new(const AvahiPoll *api, int fd, AvahiWatchEvent ev, AvahiWatchCallback cb, void *ud)
{
    mdns_apoll *p = api->userdata;
    AvahiWatch *w = calloc(1, sizeof *w);
    if (!w)
        return NULL;
    *w = (AvahiWatch){p, fd, 0, ev, 0, cb, ud, p->watches};
    p->watches = w;
    return w;
}

static void watch_update(AvahiWatch *w, AvahiWatchEvent ev) { w->events = ev; }
static AvahiWatchEvent watch_get_events(AvahiWatch *w) { return w->revents; }
static void watch_free(AvahiWatch *w) { w->dead = 1; }

static void arm(AvahiTimeout *t, const struct timeval *tv)
{
    t->armed = tv != NULL;
    if (tv)
        t->when = *tv;
}

static AvahiTimeout *timeout_new(const AvahiPoll *api, const struct timeval *tv, AvahiTimeoutCallback cb, void *ud)
{
    mdns_apoll *p = api->userdata;
    AvahiTimeout *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    *t = (AvahiTimeout){.p = p, .cb = cb, .ud = ud, .next = p->timeouts};
    arm(t, tv);
    p->timeouts = t;
    return t;
}

static void timeout_update(AvahiTimeout *t, const struct timeval *tv) { arm(t, tv); }
static void timeout_free(AvahiTimeout *t) { t->dead = 1; }

mdns_apoll *mdns_apoll_new(void)
{
    mdns_apoll *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->api = (AvahiPoll){p, watch_new, watch_update, watch_get_events, watch_free,
                         timeout_new, timeout_update, timeout_free};
    return p;
}

const AvahiPoll *mdns_apoll_api(mdns_apoll *p) { return &p->api; }

int mdns_apoll_pollfds(mdns_apoll *p, struct pollfd *pfd, int max)
{
    int n = 0;
    for (AvahiWatch *w = p->watches; w && n < max; w = w->next)
        if (!w->dead)
            pfd[n++] = (struct pollfd){w->fd, (short)w->events, 0};
    return n;
}

static long ms_until(const struct timeval *when)
{
    struct timeval now;
    gettimeofday(&now, NULL);
    long ms = (long)(when->tv_sec - now.tv_sec) * 1000 + (long)(when->tv_usec - now.tv_usec) / 1000;
    return ms < 0 ? 0 : ms;
}

long mdns_apoll_timeout_ms(mdns_apoll *p)
{
    long best = -1;
    for (AvahiTimeout *t = p->timeouts; t; t = t->next)
        if (!t->dead && t->armed) {
            long ms = ms_until(&t->when);
            if (best < 0 || ms < best)
                best = ms;
        }
    return best;
}

static void sweep(mdns_apoll *p)
{
    for (AvahiWatch **w = &p->watches; *w;) {
        AvahiWatch *x = *w;
        *w = x->dead ? x->next : *w;
        if (x->dead)
            free(x);
        else
            w = &x->next;
    }
    for (AvahiTimeout **t = &p->timeouts; *t;) {
        AvahiTimeout *x = *t;
        *t = x->dead ? x->next : *t;
        if (x->dead)
            free(x);
        else
            t = &x->next;
    }
}

static short revents_of(const struct pollfd *pfd, int n, int fd)
{
    for (int i = 0; i < n; i++)
        if (pfd[i].fd == fd)
            return pfd[i].revents;
    return 0;
}

void mdns_apoll_run(mdns_apoll *p, const struct pollfd *pfd, int n)
{
    for (AvahiWatch *w = p->watches; w; w = w->next) {
        short re = w->dead ? 0 : revents_of(pfd, n, w->fd);
        w->revents = (AvahiWatchEvent)(re & (short)(w->events | POLLERR | POLLHUP));
        if (w->revents)
            w->cb(w, w->fd, w->revents, w->ud);
        w->revents = 0;
    }
    for (AvahiTimeout *t = p->timeouts; t; t = t->next)
        if (!t->dead && t->armed && ms_until(&t->when) == 0) {
            t->armed = 0;
            t->cb(t, t->ud);
        }
    sweep(p);
}

void mdns_apoll_free(mdns_apoll *p)
{
    if (!p)
        return;
    for (AvahiWatch *w = p->watches; w; w = w->next)
        w->dead = 1;
    for (AvahiTimeout *t = p->timeouts; t; t = t->next)
        t->dead = 1;
    sweep(p);
    free(p);
}
