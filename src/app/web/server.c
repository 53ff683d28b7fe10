/*
 * server.c: the web server of `eota device` (web.h, docs/web.md): start,
 * poll set, timers, stop. What each request does is in route.c and the
 * files it leads to (see internal.h).
 *
 * libmicrohttpd runs without threads: MHD_USE_EPOLL in external-polling
 * mode, so each daemon is one epoll descriptor in the device's poll set, and
 * MHD_run does the work without blocking. An upload that waits for a slow
 * backend is a suspended connection, resumed here when its time comes.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include "internal.h"
#include "log.h"
#include "net.h"

/* Idle connections (no request, a stalled body) are closed after this;
 * at most CONN_LIMIT connections, CONN_PER_IP from one address, so that a
 * stranger's idle connections do not keep the owner from the page. */
#define CONN_TIMEOUT_S 15u
#define CONN_LIMIT 64u
#define CONN_PER_IP 8u
#define WATCH_MS 100 /* how often an upload's client is looked at */

static int start_daemon(eota_web *w, const char *addr)
{
    int family = 0;
    char err[512];
    int fd = eota_net_listen(addr, w->port, (int)CONN_LIMIT, &family, err, sizeof err);
    if (fd < 0) {
        LOGE(TAG, "%s", err);
        return -1;
    }
    unsigned flags = MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG;
    if (family == AF_INET6)
        flags |= MHD_USE_IPv6;
    struct MHD_Daemon *d = MHD_start_daemon(
        flags, 0, NULL, NULL, web_on_request, w, MHD_OPTION_EXTERNAL_LOGGER, web_on_mhd_log, w, MHD_OPTION_LISTEN_SOCKET, fd,
        MHD_OPTION_CONNECTION_LIMIT, CONN_LIMIT, MHD_OPTION_PER_IP_CONNECTION_LIMIT, CONN_PER_IP,
        MHD_OPTION_CONNECTION_TIMEOUT, CONN_TIMEOUT_S,
        MHD_OPTION_NOTIFY_COMPLETED, web_on_completed, w, MHD_OPTION_DIGEST_AUTH_RANDOM,
        sizeof w->digest_random, w->digest_random, MHD_OPTION_NONCE_NC_SIZE, (unsigned int)64, MHD_OPTION_END);
    if (!d) {
        LOGE(TAG, "libmicrohttpd could not start on [%s]:%u", addr, w->port);
        close(fd);
        return -1;
    }
    w->d[w->nd++] = d;
    LOGI(TAG, "Listening for HTTP on [%s]:%u", addr, w->port);
    return 0;
}

/* The digest's random, its opaque and realm; the port. 0, or -1. */
static int web_identity(eota_web *w)
{
    const eota_web_opts *o = &w->o;
    w->port = o->port_override ? o->port_override : w->cfg->web_server.port; /* the config's, or 80 (8080 on host) */
    snprintf(w->realm, sizeof w->realm, "%s", w->cfg->name);
    uint8_t rnd[16];
    if (getrandom(w->digest_random, sizeof w->digest_random, 0) != (ssize_t)sizeof w->digest_random ||
        getrandom(rnd, sizeof rnd, 0) != (ssize_t)sizeof rnd) {
        LOGE(TAG, "getrandom: %s", strerror(errno));
        return -1;
    }
    for (unsigned i = 0; i < sizeof rnd; i++)
        snprintf(w->opaque + 2 * i, 3, "%02x", rnd[i]);
    return 0;
}

/* One daemon per listen address (none given: IPv4 and IPv6, IPv6 being
 * optional). 0, or -1. */
static int web_listen(eota_web *w)
{
    static char *defaults[] = {"0.0.0.0", "::"};
    char *const *addrs = w->o.listen;
    int n = w->o.nlisten;
    int use_default = n == 0;
    if (use_default) {
        addrs = defaults;
        n = 2;
    }
    for (int i = 0; i < n && w->nd < MAX_DAEMONS; i++) {
        if (start_daemon(w, addrs[i]) != 0) {
            if (use_default && i == 1 && w->nd > 0) {
                LOGW(TAG, "IPv6 not available: HTTP on IPv4 only");
                continue;
            }
            return -1;
        }
    }
    return 0;
}

static void log_setup(const eota_web *w)
{
    const eota_web_server_config *ws = &w->cfg->web_server;
    if (ws->has_auth)
        LOGI(TAG, "Web server: port %u, %s authentication as '%s', web upload %s", w->port,
             ws->auth_type == EOTA_WEB_AUTH_DIGEST ? "digest" : "basic", ws->username,
             w->upload_enabled ? "on (POST /update)" : "off");
    else
        LOGI(TAG, "Web server: port %u, no authentication, web upload %s", w->port,
             w->upload_enabled ? "on (POST /update)" : "off");
    if (w->upload_enabled && !ws->has_auth)
        LOGW(TAG, "The web upload is open: anyone who reaches port %u can install firmware without a password. "
                  "Add web_server: auth: (username, password) to protect it.",
             w->port);
    if (w->upload_enabled && !ws->present)
        LOGW(TAG, "'ota: - platform: web_server' without a web_server: block: serving on port %u", w->port);
}

int eota_web_start(eota_web **out, const eota_web_opts *o)
{
    *out = NULL;
    const eota_config *cfg = o->cfg;
    if (!cfg->web_server.present && !cfg->ota_web_server)
        return 0;
    eota_web *w = calloc(1, sizeof *w);
    if (!w) {
        LOGE(TAG, "out of memory");
        return -1;
    }
    w->o = *o;
    w->cfg = cfg;
    backoff_init(&w->guesses);
    w->upload_enabled = cfg->ota_web_server;
    if (web_update_init(w) != EOTA_OK) {
        LOGE(TAG, "the storage backend is incomplete");
        free(w);
        return -1;
    }
    if (web_identity(w) != 0) {
        free(w);
        return -1;
    }
    if (web_listen(w) != 0) {
        eota_web_stop(w);
        return -1;
    }
    log_setup(w);
    *out = w;
    return 0;
}

int eota_web_pollfds(const eota_web *w, struct pollfd *pfd, int room)
{
    int n = 0;
    if (!w)
        return 0;
    for (int i = 0; i < w->nd && n < room; i++) {
        const union MHD_DaemonInfo *di = MHD_get_daemon_info(w->d[i], MHD_DAEMON_INFO_EPOLL_FD);
        if (di)
            pfd[n++] = (struct pollfd){di->epoll_fd, POLLIN, 0};
    }
    for (int i = 0; i < w->nlinger && n < room; i++)
        pfd[n++] = (struct pollfd){w->linger_fd[i], POLLIN, 0};
    return n;
}

long eota_web_timeout_ms(const eota_web *w)
{
    if (!w)
        return -1;
    long best = -1;
    uint64_t t = web_now_ms();
    for (int i = 0; i < w->nd; i++) {
        MHD_UNSIGNED_LONG_LONG to;
        if (MHD_get_timeout(w->d[i], &to) == MHD_YES) {
            long v = to > 60000 ? 60000 : (long)to;
            if (best < 0 || v < best)
                best = v;
        }
    }
    if (w->upload) /* web_update_watch looks at the client often */
        best = best < 0 || best > WATCH_MS ? WATCH_MS : best;
    uint64_t when[3] = {w->suspended ? w->resume_at : 0, w->reboot_at, 0};
    for (int i = 0; i < w->nlinger; i++)
        if (!when[2] || w->linger_until[i] < when[2])
            when[2] = w->linger_until[i];
    for (int i = 0; i < 3; i++) {
        if (!when[i])
            continue;
        long v = when[i] <= t ? 0 : (long)(when[i] - t);
        if (best < 0 || v < best)
            best = v;
    }
    return best;
}

int eota_web_run(eota_web *w)
{
    if (!w)
        return 0;
    uint64_t t = web_now_ms();
    if (w->suspended && t >= w->resume_at) {
        web_req *r = w->suspended;
        w->suspended = NULL;
        MHD_resume_connection(r->conn);
    }
    for (int i = 0; i < w->nd; i++)
        MHD_run(w->d[i]);
    web_update_watch(w);
    web_linger_run(w);
    if (w->reboot_pending && w->reboot_at && web_now_ms() >= w->reboot_at) {
        w->reboot_pending = 0;
        w->reboot_at = 0;
        return 1;
    }
    return 0;
}

int eota_web_busy(const eota_web *w) { return w && (w->upload || w->reboot_pending); }

void eota_web_stop(eota_web *w)
{
    if (!w)
        return;
    web_update_shutdown(w); /* an upload in progress: nothing committed */
    if (w->suspended) {
        MHD_resume_connection(w->suspended->conn);
        w->suspended = NULL;
    }
    for (int i = 0; i < w->nd; i++)
        MHD_stop_daemon(w->d[i]);
    for (int i = 0; i < w->nlinger; i++)
        close(w->linger_fd[i]);
    free(w);
}
