/*
 * libmdnsd.h: libmdnsd's headers (Debian's libmdnsd-dev), in one place.
 * They need the empty config.h of libmdnsd_compat/ on the include path.
 */
#ifndef EOTA_APP_MDNS_LIBMDNSD_H
#define EOTA_APP_MDNS_LIBMDNSD_H

#include <libmdnsd/mdnsd.h>
#include <libmdnsd/sdtxt.h>

#endif
