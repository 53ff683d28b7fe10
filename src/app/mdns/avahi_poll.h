/*
 * avahi_poll.h: Avahi's event-loop interface (AvahiPoll) over our own
 * poll loop: Avahi's client asks for watches and timeouts through it; the
 * loop waits on them with everything else (pollfds, timeout_ms) and hands
 * the events back (run).
 */
#ifndef EOTA_APP_MDNS_AVAHI_POLL_H
#define EOTA_APP_MDNS_AVAHI_POLL_H

#include <avahi-common/watch.h>
#include <poll.h>

typedef struct mdns_apoll mdns_apoll;

mdns_apoll *mdns_apoll_new(void);
const AvahiPoll *mdns_apoll_api(mdns_apoll *p);
int mdns_apoll_pollfds(mdns_apoll *p, struct pollfd *pfd, int max);
long mdns_apoll_timeout_ms(mdns_apoll *p);
/* Call back the watches whose descriptor is ready in pfd, then the
 * timeouts that are due. */
void mdns_apoll_run(mdns_apoll *p, const struct pollfd *pfd, int n);
/* After everything that used it was freed. */
void mdns_apoll_free(mdns_apoll *p);

#endif
