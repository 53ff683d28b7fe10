/*
 * listen.c: the OTA port of `eota device`: listeners on the --listen
 * addresses (or 0.0.0.0 and ::), and clients accepted into the lobby
 * (lobby.c), which hands them to the engine or turns them away.
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
        /* The lobby takes what comes at once; the backlog only bridges
         * the time between two turns of the loop. */
        int fd = eota_net_listen(addrs[i], port, 16, NULL, err, sizeof err);
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

/* Every connection waiting on the listener goes to the lobby (lobby.h),
 * which hands it to the engine when its turn comes. Returns the number the
 * engine took. */
int dev_accept(dev_device *d, int lfd)
{
    for (;;) {
        struct sockaddr_storage ss;
        socklen_t sl = sizeof ss;
        int fd = accept4(lfd, (struct sockaddr *)&ss, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
                LOGW(DEV_TAG, "accept: %s", strerror(errno));
            return dev_lobby_run(d);
        }
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        dev_lobby_add(d, fd, (struct sockaddr *)&ss);
    }
}
