/*
 * listen.c: the OTA port of `eota device`: listeners on the --listen
 * addresses (or 0.0.0.0 and ::), and clients accepted and handed to the
 * engine, or turned away while an upload runs.
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "device.h"
#include "log.h"
#include "net.h"

int dev_listen(dev_device *d, uint16_t port)
{
    char **addrs = d->opt.listen;
    int naddrs = d->opt.nlisten;
    char err[512];
    static char *defaults[] = {"0.0.0.0", "::"};
    int use_default = naddrs == 0;
    if (use_default) {
        addrs = defaults;
        naddrs = 2;
    }
    for (int i = 0; i < naddrs && d->nlisten < DEV_MAX_LISTEN; i++) {
        /* A small backlog, as stock devices have: the engine turns away a
         * second client itself, at once. */
        int fd = eota_net_listen(addrs[i], port, 4, NULL, err, sizeof err);
        if (fd < 0) {
            if (use_default && i == 1 && d->nlisten > 0) {
                LOGW("device", "IPv6 not available (%s): IPv4 only", err);
                continue;
            }
            LOGE("device", "%s", err);
            return -1;
        }
        d->listen_fd[d->nlisten++] = fd;
        LOGI("device", "Listening for OTA on [%s]:%u", addrs[i], port);
    }
    return 0;
}

/* Returns the number of connections handed to the engine (not turned away). */
int dev_accept(dev_device *d, int lfd)
{
    int taken = 0;
    for (;;) {
        int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
                LOGW(DEV_TAG, "accept: %s", strerror(errno));
            return taken;
        }
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        char peer[80];
        net_peer_text(fd, peer, sizeof peer);
        if (eota_web_busy(d->web) || eota_pull_busy(d->pull)) { /* one upload at a time */
            LOGW(DEV_TAG, "Connection from %s turned away: a %s is in progress", peer,
                 eota_pull_busy(d->pull) ? "pull download" : "web upload");
            close(fd);
            continue;
        }
        eota_posix_conn *slot = d->conns[0].fd < 0 ? &d->conns[0] : &d->conns[1];
        slot->fd = fd;
        if (eota_server_accept(&d->srv, slot) != EOTA_OK) { /* the engine closed it */
            LOGW(DEV_TAG, "Connection from %s turned away: an upload is in progress", peer);
            continue;
        }
        LOGD(DEV_TAG, "Connection from %s", peer);
        taken++;
    }
}
