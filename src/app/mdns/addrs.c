/*
 * addrs.c: the addresses NAME.local answers with (internal.h): those of
 * every interface that is up, except loopback.
 */
#include <ifaddrs.h>
#include <net/if.h>
#include <string.h>

#include "mdns/internal.h"

static void add(mdns_addrs *a, const struct sockaddr *sa)
{
    if (sa->sa_family == AF_INET && a->n4 < MDNS_MAX_ADDRS)
        a->v4[a->n4++] = ((const struct sockaddr_in *)sa)->sin_addr;
    else if (sa->sa_family == AF_INET6 && a->n6 < MDNS_MAX_ADDRS)
        a->v6[a->n6++] = ((const struct sockaddr_in6 *)sa)->sin6_addr;
}

void mdns_addrs_read(mdns_addrs *a)
{
    struct ifaddrs *ifs = NULL;
    memset(a, 0, sizeof *a);
    if (getifaddrs(&ifs) != 0)
        return;
    for (struct ifaddrs *i = ifs; i; i = i->ifa_next)
        if (i->ifa_addr && (i->ifa_flags & IFF_UP) && !(i->ifa_flags & IFF_LOOPBACK))
            add(a, i->ifa_addr);
    freeifaddrs(ifs);
}

int mdns_addrs_has4(const mdns_addrs *a, struct in_addr ip)
{
    for (size_t i = 0; i < a->n4; i++)
        if (a->v4[i].s_addr == ip.s_addr)
            return 1;
    return 0;
}

int mdns_addrs_has6(const mdns_addrs *a, const struct in6_addr *ip)
{
    for (size_t i = 0; i < a->n6; i++)
        if (!memcmp(&a->v6[i], ip, sizeof *ip))
            return 1;
    return 0;
}
