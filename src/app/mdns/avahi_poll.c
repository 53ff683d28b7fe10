/*
 * avahi_poll.c: AvahiPoll over our poll loop (avahi_poll.h). Watches and
 * timeouts are kept in lists; one freed by Avahi inside a callback is only
 * marked dead, and unlinked after the turn.
 */
#include "mdns/avahi_poll.h"

#include <stdlib.h>
#include <sys/time.h>


/* What watches and timeouts share, first in each: the list they are on,
 * and whether Avahi freed them. */
typedef struct anode {
    struct anode *next;
    int dead;
} anode;

struct AvahiWatch {
    anode n;
    mdns_apoll *p;
    int fd;
    AvahiWatchEvent events, revents;
    AvahiWatchCallback cb;
    void *ud;
};

struct AvahiTimeout {
    anode n;
    mdns_apoll *p;
    int armed;
    struct timeval when;
    AvahiTimeoutCallback cb;
    void *ud;
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
    *w = (AvahiWatch){{(anode *)p->watches, 0}, p, fd, ev, 0, cb, ud};
    p->watches = w;
    return w;
}

static void watch_update(AvahiWatch *w, AvahiWatchEvent ev) { w->events = ev; }
static AvahiWatchEvent watch_get_events(AvahiWatch *w) { return w->revents; }
static void watch_free(AvahiWatch *w) { w->n.dead = 1; }

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
    *t = (AvahiTimeout){.n = {(anode *)p->timeouts, 0}, .p = p, .cb = cb, .ud = ud};
    arm(t, tv);
    p->timeouts = t;
    return t;
}

static void timeout_update(AvahiTimeout *t, const struct timeval *tv) { arm(t, tv); }
static void timeout_free(AvahiTimeout *t) { t->n.dead = 1; }

#define NEXT_W(w) ((AvahiWatch *)(w)->n.next)
#define NEXT_T(t) ((AvahiTimeout *)(t)->n.next)

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
    for (AvahiWatch *w = p->watches; w && n < max; w = NEXT_W(w))
        if (!w->n.dead)
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
    for (AvahiTimeout *t = p->timeouts; t; t = NEXT_T(t))
        if (!t->n.dead && t->armed) {
            long ms = ms_until(&t->when);
            if (best < 0 || ms < best)
                best = ms;
        }
    return best;
}

/* Unlink and free the dead nodes of a list. */
static void sweep(anode **head)
{
    while (*head) {
        anode *x = *head;
        if (!x->dead) {
            head = &x->next;
            continue;
        }
        *head = x->next;
        free(x);
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
    for (AvahiWatch *w = p->watches; w; w = NEXT_W(w)) {
        short re = w->n.dead ? 0 : revents_of(pfd, n, w->fd);
        w->revents = (AvahiWatchEvent)(re & (short)(w->events | POLLERR | POLLHUP));
        if (w->revents)
            w->cb(w, w->fd, w->revents, w->ud);
        w->revents = 0;
    }
    for (AvahiTimeout *t = p->timeouts; t; t = NEXT_T(t))
        if (!t->n.dead && t->armed && ms_until(&t->when) == 0) {
            t->armed = 0;
            t->cb(t, t->ud);
        }
    sweep((anode **)&p->watches);
    sweep((anode **)&p->timeouts);
}

void mdns_apoll_free(mdns_apoll *p)
{
    if (!p)
        return;
    for (AvahiWatch *w = p->watches; w; w = NEXT_W(w))
        w->n.dead = 1;
    for (AvahiTimeout *t = p->timeouts; t; t = NEXT_T(t))
        t->n.dead = 1;
    sweep((anode **)&p->watches);
    sweep((anode **)&p->timeouts);
    free(p);
}
