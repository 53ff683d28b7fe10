/*
 * loop.c: the one poll loop of `eota device`: it waits on the signalfd,
 * the listeners, the engine's sessions' sockets and the web server's
 * descriptors, for at most the nearest of their deadlines; then the engine,
 * the new clients, the shell actions' timeouts, the web server and the
 * boot timers get their turn.
 */
#include <errno.h>
#include <poll.h>
#include <string.h>

#include "device.h"
#include "log.h"

#define DEV_MAX_POLLFDS (DEV_MAX_LISTEN + 1 + EOTA_LOBBY_PLACES + EOTA_WEB_MAX_FDS + DEV_LOBBY_MAX + EOTA_PULL_MAX_FDS + EOTA_MDNS_MAX_FDS)

/* The nearer of two timeouts, -1 meaning none. */
static long nearer(long a, long b) { return b >= 0 && (a < 0 || b < a) ? b : a; }

/* pfd[0] is the signalfd, pfd[1 .. nlisten] the listeners. */
static int fill_pollfds(dev_device *d, struct pollfd *pfd)
{
    int n = 0;
    pfd[n++] = (struct pollfd){d->sig_fd, POLLIN, 0};
    /* A session that only says goodbye ends within a second: a new
     * client waits in the backlog for it instead of being turned away
     * (often it is the same uploader, back for another image). */
    short lev = eota_lobby_finishing(&d->ota) ? 0 : POLLIN;
    for (int i = 0; i < d->nlisten; i++)
        pfd[n++] = (struct pollfd){d->listen_fd[i], lev, 0};
    for (int i = 0; i < EOTA_LOBBY_PLACES; i++) { /* each handshake place's session */
        const eota_posix_conn *c = eota_lobby_conn(&d->ota, i);
        if (!c || c->fd < 0)
            continue;
        unsigned w = eota_server_wants(eota_lobby_place(&d->ota, i));
        short ev = (short)(((w & EOTA_WANT_READ) ? POLLIN : 0) | ((w & EOTA_WANT_WRITE) ? POLLOUT : 0));
        pfd[n++] = (struct pollfd){c->fd, ev, 0};
    }
    n += dev_lobby_pollfds(d, pfd + n, DEV_LOBBY_MAX);
    n += eota_pull_pollfds(d->pull, pfd + n, EOTA_PULL_MAX_FDS);
    n += eota_web_pollfds(d->web, pfd + n, EOTA_WEB_MAX_FDS);
    d->mdns_pfd = n; /* mDNS last: after_wait finds its own from there */
    return n + eota_mdns_pollfds(d->mdns, pfd + n, EOTA_MDNS_MAX_FDS);
}

/* How long poll may wait, in ms, capped at a minute; -1: until I/O. */
static int wait_ms(dev_device *d)
{
    long timeout = eota_lobby_timeout_ms(&d->ota);
    timeout = nearer(timeout, sup_next_timeout_ms(&d->autos.shells));
    timeout = nearer(timeout, sup_next_timeout_ms(&d->app.procs)); /* a stop's deadline */
    timeout = nearer(timeout, eota_safe_mode_timeout_ms(&d->sm, dev_now32()));
    if (d->reboot_wanted && timeout < 0)
        timeout = 100;
    timeout = nearer(timeout, eota_web_timeout_ms(d->web));
    timeout = nearer(timeout, dev_lobby_timeout_ms(d));
    timeout = nearer(timeout, eota_mdns_timeout_ms(d->mdns));
    timeout = nearer(timeout, dev_mdns_timeout_ms(d)); /* the image's hash goes on */
    timeout = nearer(timeout, eota_pull_timeout_ms(d->pull));
    return timeout < 0 ? -1 : (int)(timeout > 60000 ? 60000 : timeout);
}

/* A step of the engine; its successful upload reboots the device. */
static void run_engine(dev_device *d)
{
    if (eota_lobby_poll(&d->ota) == EOTA_SERVER_REBOOT)
        dev_reboot(d);
}

static void after_wait(dev_device *d, const struct pollfd *pfd, int n)
{
    /* The running session first: a client that just sent its final
     * 00 and reconnected at once must find the device free, not be
     * turned away because that 00 was still unread. */
    run_engine(d);
    int accepted = 0;
    for (int i = 0; i < d->nlisten; i++)
        if (pfd[1 + i].revents & POLLIN)
            accepted += dev_accept(d, d->listen_fd[i]);
    accepted += dev_lobby_run(d); /* waiters whose turn came */
    /* a new client is served at once (its magic may be there already) */
    if (accepted)
        run_engine(d);
    sup_check_timeouts(&d->autos.shells);
    sup_check_timeouts(&d->app.procs);
    if (eota_web_run(d->web)) /* 100 ms after a web upload's success reply */
        dev_reboot(d);
    if (eota_pull_run(d->pull)) /* a pull update installed */
        dev_reboot(d);
    dev_boot_poll(d);
    eota_mdns_run(d->mdns, pfd + d->mdns_pfd, n - d->mdns_pfd);
    dev_mdns_refresh(d); /* TXT records after what this turn changed */
}

/* An orderly shutdown: the boot counts as good, as on a stock device. */
static void shut_down(dev_device *d)
{
    if (eota_lobby_busy(&d->ota)) {
        LOGW(DEV_TAG, "Upload in progress discarded by the shutdown");
        eota_lobby_cancel(&d->ota);
    }
    dev_lobby_close(&d->lobby);
    dev_app_stop(&d->app);
    eota_safe_mode_shutdown(&d->sm);
    dev_mdns_stop(d); /* goodbye */
}

int dev_loop_run(dev_device *d)
{
    while (!d->stop) {
        struct pollfd pfd[DEV_MAX_POLLFDS];
        int n = fill_pollfds(d, pfd);
        int r = poll(pfd, (nfds_t)n, wait_ms(d));
        if (r < 0 && errno != EINTR) {
            LOGE("device", "poll: %s", strerror(errno));
            return 1;
        }
        if (pfd[0].revents & POLLIN)
            dev_signals_handle(d);
        if (!d->stop)
            after_wait(d, pfd, n);
    }
    shut_down(d);
    return 0;
}
