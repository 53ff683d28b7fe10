/*
 * internal.h: what the files of the web server (src/app/web/) share: the
 * server's and a request's state, and each file's entry points.
 *
 *   server.c     the API of web.h: daemons, poll set, timers, start/stop
 *   route.c      libmicrohttpd's callbacks: a request to its handler
 *   reply.c      replies, and the lingering close after an early one
 *   auth.c       basic and digest authentication (web_server: auth:)
 *   page.c       GET /: the status page, and what it says of the last update
 *   update.c     POST /update: the web upload, through the core's ingest
 *   multipart.c  the upload's multipart/form-data parser
 */
#ifndef EOTA_APP_WEB_INTERNAL_H
#define EOTA_APP_WEB_INTERNAL_H

#include <stdarg.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include <microhttpd.h>

#include "backoff.h"
#include "eota/ingest.h"
#include "eota/posix.h"
#include "web.h"
#include "web/multipart.h"

#define TAG "web_server"
#define MAX_DAEMONS 8
#define REBOOT_DELAY_MS 100        /* after a success reply, as stock devices do */
#define MAX_LINGER 16              /* connections drained after an early reply */

typedef struct web_req web_req;

struct eota_web {
    eota_web_opts o;
    const eota_config *cfg;
    struct MHD_Daemon *d[MAX_DAEMONS];
    int nd;
    uint16_t port;
    int upload_enabled;          /* ota: - platform: web_server */
    char realm[128];
    char opaque[33];
    char digest_random[32];
    backoff guesses;             /* wrong credentials, per address (auth.c) */
    web_req *upload;             /* the request that holds the backend */
    eota_ingest ingest;          /* its data phase, over the device's backend */
    web_req *suspended;          /* the upload, waiting for the backend */
    uint64_t resume_at;
    int reboot_pending;          /* an image was committed over the web */
    uint64_t reboot_at;          /* 0 until the reply went out */
    /* early replies to requests whose body still comes: the socket is kept
     * (a dup) and drained after MHD closed it, so that the client reads the
     * reply instead of a reset (a "lingering close") */
    int linger_fd[MAX_LINGER];
    uint64_t linger_until[MAX_LINGER];
    int nlinger;
    /* the page */
    char last_result[512];
    int in_web_event;            /* the events come from a web request */
    /* MD5 of the running image, cached */
    char md5_slot;
    uint32_t md5_seq;
    off_t md5_size;
    struct timespec md5_mtime;
    char md5_hex[33];
};

struct web_req {
    eota_web *w;
    struct MHD_Connection *conn;
    char peer[80];
    char key[BACKOFF_KEY_LEN];   /* its address, for the backoff */
    int is_upload;               /* holds the backend */
    multipart mp;                /* the body's parser */
    uint64_t body_len;           /* Content-Length, 0 when not given */
    /* the upload */
    uint8_t *pend;               /* image bytes found, for the ingest */
    size_t pend_len;
    int started, committed, failed;
    uint64_t started_ms;
    uint64_t last_data_ms;       /* the last body bytes, for eota_web_yield */
    unsigned status;             /* the reply when failed */
    char reason[640];
};

static inline uint64_t web_now_ms(void) { return eota_posix_now_ms64(); }

/* route.c */
enum MHD_Result web_on_request(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                               const char *version, const char *upload_data, size_t *upload_data_size,
                               void **req_cls);
void web_on_completed(void *cls, struct MHD_Connection *c, void **req_cls, enum MHD_RequestTerminationCode toe);
void web_on_mhd_log(void *cls, const char *fmt, va_list ap);

/* reply.c */
enum MHD_Result web_reply(struct MHD_Connection *c, unsigned status, const char *type, const char *body,
                          int close_after);
/* "Update Failed! reason", logged too. */
enum MHD_Result web_reply_failed(web_req *r, unsigned status, const char *reason);
/* Keep draining a request's socket after a reply queued before its body. */
void web_linger_if_body(eota_web *w, struct MHD_Connection *c);
void web_linger_run(eota_web *w);

/* auth.c */
enum { WEB_AUTH_OK, WEB_AUTH_MISSING, WEB_AUTH_WRONG, WEB_AUTH_STALE };
int web_check_auth(eota_web *w, struct MHD_Connection *c);
enum MHD_Result web_reply_auth(eota_web *w, struct MHD_Connection *c, int why, const char *body);
/* The credentials of a request, through the per-address backoff: an
 * address still in its delay gets 429 (*reply set) and nothing is checked;
 * a wrong one counts against it (*burst_opens: the first of a burst, to be
 * logged and told); a right one forgets it. WEB_AUTH_*. */
int web_auth_gate(eota_web *w, web_req *r, enum MHD_Result *reply, int *burst_opens);

/* page.c */
enum MHD_Result web_page(eota_web *w, struct MHD_Connection *c);

/* update.c */
/* The ingest over the device's backend, its events told as the engine's. */
int web_update_init(eota_web *w);
/* An event of the web server's (its upload's, a refused password). */
void web_event(eota_web *w, const eota_event *ev);
enum MHD_Result web_update_first(eota_web *w, web_req *r, struct MHD_Connection *c);
enum MHD_Result web_update_body(web_req *r, const char *data, size_t *size);
enum MHD_Result web_update_end(web_req *r);
/* The upload's request ended (toe says how), or the server stops: an
 * upload not yet committed or failed is dropped, the old image stays. */
void web_update_closed(web_req *r, enum MHD_RequestTerminationCode toe);
void web_update_shutdown(eota_web *w);
/* The upload's client went away without libmicrohttpd noticing: the
 * upload is aborted and the backend freed at once. */
void web_update_watch(eota_web *w);

#endif
