/*
 * sock.c: the mDNS multicast socket (sock.h).
 */
#include "mdns/sock.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "log.h"

#define TAG "mdns"

static int set_int(int fd, int level, int opt, int v) { return setsockopt(fd, level, opt, &v, sizeof v); }

/* Join the group on every up, multicast-capable interface with IPv4. */
static void join_all(mdns_sock *s)
{
    struct ifaddrs *ifs = NULL;
    if (getifaddrs(&ifs) != 0)
        return;
    for (struct ifaddrs *i = ifs; i && s->nif < MDNS_MAX_IFACES; i = i->ifa_next) {
        if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET || !(i->ifa_flags & IFF_UP) ||
            !(i->ifa_flags & IFF_MULTICAST))
            continue;
        struct ip_mreq mr;
        mr.imr_multiaddr.s_addr = inet_addr("224.0.0.251");
        mr.imr_interface = ((struct sockaddr_in *)i->ifa_addr)->sin_addr;
        if (setsockopt(s->fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, &mr, sizeof mr) == 0)
            s->ifaddr[s->nif++] = mr.imr_interface;
    }
    freeifaddrs(ifs);
}

int mdns_sock_open(mdns_sock *s)
{
    memset(s, 0, sizeof *s);
    s->echo = calloc(MDNS_ECHOES, sizeof *s->echo);
    s->fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (s->fd < 0 || !s->echo) {
        LOGE(TAG, "socket: %s", strerror(errno));
        mdns_sock_close(s);
        return -1;
    }
    set_int(s->fd, SOL_SOCKET, SO_REUSEADDR, 1);
    set_int(s->fd, SOL_SOCKET, SO_REUSEPORT, 1);
    set_int(s->fd, IPPROTO_IP, IP_MULTICAST_TTL, 255); /* RFC 6762 11 */
    set_int(s->fd, IPPROTO_IP, IP_MULTICAST_LOOP, 1);
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(MDNS_PORT)};
    if (bind(s->fd, (struct sockaddr *)&sin, sizeof sin) != 0) {
        LOGE(TAG, "bind to port %d: %s", MDNS_PORT, strerror(errno));
        mdns_sock_close(s);
        return -1;
    }
    join_all(s);
    if (s->nif == 0)
        LOGW(TAG, "no interface with IPv4 multicast: mDNS hears nothing");
    return 0;
}

void mdns_sock_close(mdns_sock *s)
{
    if (s->fd >= 0)
        close(s->fd);
    s->fd = -1;
    free(s->echo);
    s->echo = NULL;
}

static void send_to(const mdns_sock *s, const unsigned char *pkt, size_t len, struct in_addr ip, uint16_t port)
{
    struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = port, .sin_addr = ip};
    if (sendto(s->fd, pkt, len, 0, (struct sockaddr *)&to, sizeof to) < 0 && errno != EAGAIN)
        LOGD(TAG, "sendto %s: %s", inet_ntoa(ip), strerror(errno));
}

static void remember(mdns_sock *s, const unsigned char *pkt, size_t len)
{
    if (len > MDNS_ECHO_MAX || !s->echo)
        return;
    mdns_echo *e = &s->echo[s->echo_next++ % MDNS_ECHOES];
    e->len = len;
    memcpy(e->pkt, pkt, len);
}

static int is_echo(const mdns_sock *s, const unsigned char *pkt, size_t len)
{
    for (unsigned i = 0; i < MDNS_ECHOES; i++)
        if (s->echo[i].len == len && !memcmp(s->echo[i].pkt, pkt, len))
            return 1;
    return 0;
}

void mdns_sock_send(mdns_sock *s, const unsigned char *pkt, size_t len, struct in_addr ip, uint16_t port)
{
    if (s->fd < 0) /* offline */
        return;
    remember(s, pkt, len);
    if (!IN_MULTICAST(ntohl(ip.s_addr))) {
        send_to(s, pkt, len, ip, port);
        return;
    }
    for (size_t i = 0; i < s->nif; i++) {
        setsockopt(s->fd, IPPROTO_IP, IP_MULTICAST_IF, &s->ifaddr[i], sizeof s->ifaddr[i]);
        send_to(s, pkt, len, ip, port);
    }
}

long mdns_sock_recv(const mdns_sock *s, unsigned char *buf, size_t len, struct sockaddr_in *from,
                    size_t *written)
{
    socklen_t fl = sizeof *from;
    ssize_t n;
    do {
        n = recvfrom(s->fd, buf, len, 0, (struct sockaddr *)from, &fl);
        if (n > 0 && (size_t)n > *written)
            *written = (size_t)n;
    } while (n > 0 && is_echo(s, buf, (size_t)n));
    if (n < 0)
        return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? 0 : -1;
    return (long)n;
}
