/*
 * resolve.h: the addresses of a device, every one its names resolve to
 * (IPv4 and IPv6), in the order given, without duplicates: an upload tries
 * them in turn. Names are resolved inside the fleet's poll loop, never
 * blocking it:
 *   - addresses as written need no lookup;
 *   - NAME.local: our own mDNS question (mdns/mdns.h) raced against the
 *     system resolver (getaddrinfo_a: nss, where libnss-mdns may be);
 *     the first to answer wins;
 *   - other names: c-ares.
 * A name that gets no answer falls back to its last good address, kept in
 * the file `addresses` of the cache folder (cache_dir.h: $EOTA_CACHE_DIR,
 * else $XDG_CACHE_HOME/eota, else ~/.cache/eota): one "NAME ADDRESS" line per name, written when an upload to it succeeded. A name
 * that fails fails only its own device.
 *
 * Files: resolve.c (the lookups of a run), resolve_sys.c (c-ares and
 * getaddrinfo_a), resolve_cache.c (the file of last good addresses).
 */
#ifndef EOTA_APP_UPLOAD_RESOLVE_H
#define EOTA_APP_UPLOAD_RESOLVE_H

#include <arpa/inet.h>
#include <poll.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "upload/console.h"
#include "upload/devices.h"

#define UP_RESOLVE_MAX_FDS 20
#define UP_MDNS_WAIT_MS 5000     /* a .local name's answer */
#define UP_DNS_WAIT_MS 10000     /* any other name's */

typedef struct up_addr {
    struct sockaddr_storage sa;
    socklen_t len;
    char ip[INET6_ADDRSTRLEN];
    uint16_t port;
    char show[INET6_ADDRSTRLEN + 16]; /* "1.2.3.4:3232", "[::1]:3232" */
} up_addr;

typedef struct up_addr_list {
    up_addr *v;
    size_t n, cap;
} up_addr_list;

/* Add sa (AF_INET or AF_INET6) with port, unless the list has it. */
void up_addr_add(up_addr_list *l, const struct sockaddr *sa, socklen_t len, uint16_t port);

typedef struct up_resolver up_resolver;
struct up_run;
struct up_job;

/* Called when every name of the job is settled: j->addrs holds what they
 * gave (none: j->resolve_msg says why). */
typedef void (*up_resolved_fn)(struct up_run *r, struct up_job *j);

up_resolver *up_resolver_new(up_console *con, up_resolved_fn done);
/* Resolve j's targets (may call done at once). */
void up_resolver_begin(up_resolver *rs, struct up_run *r, struct up_job *j);
int up_resolver_pollfds(up_resolver *rs, struct pollfd *pfd, int max);
long up_resolver_timeout_ms(up_resolver *rs);
void up_resolver_run(up_resolver *rs, struct up_run *r, const struct pollfd *pfd, int n);
/* An upload to host succeeded at addr: remember it. */
void up_resolver_good(up_resolver *rs, const char *host, const up_addr *addr);
/* Write the cache file and free. NULL is fine. */
void up_resolver_free(up_resolver *rs);

/* resolve_cache.c: the last good addresses. */
typedef struct up_addr_cache up_addr_cache;
up_addr_cache *up_addr_cache_load(void);
/* The cached address of host into out (INET6_ADDRSTRLEN); 1 if known. */
int up_addr_cache_get(const up_addr_cache *c, const char *host, char *out);
void up_addr_cache_put(up_addr_cache *c, const char *host, const char *ip);
/* Write it back when it changed; the file's path for messages. */
void up_addr_cache_save(up_addr_cache *c);
const char *up_addr_cache_path(const up_addr_cache *c);
void up_addr_cache_free(up_addr_cache *c);

#endif
