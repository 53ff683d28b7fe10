/*
 * web_post.h: the web-server upload of `eota upload` (--ota-platform
 * web_server; PROTOCOL.md section 9): POST /update with a
 * multipart/form-data body whose one part, field `update`, is the image,
 * through libcurl's multi interface so that a fleet goes at once from the
 * one poll loop of the command (loop.c, through transport_web.c).
 *
 * The image is not copied: the part's bytes are read through a callback
 * from the caller's buffer (the image image.c mapped), a libcurl
 * upload buffer at a time, and rewound through a seek callback when an
 * authentication round trip makes libcurl send the body again.
 *
 * What the device answered is judged here: 200 with `Update Successful!`
 * is the only success (a stock device answers 200 `Update Failed!` too),
 * every other answer and every network failure is a failure with a
 * sentence saying what went wrong (up_web_describe, in web_words.c).
 */
#ifndef EOTA_APP_UPLOAD_WEB_POST_H
#define EOTA_APP_UPLOAD_WEB_POST_H

#include <poll.h>
#include <stddef.h>
#include <stdint.h>

/* The body text of a successful update (stock devices and eota device). */
#define UP_WEB_SUCCESS_TEXT "Update Successful!"

/* Besides the silence timer (idle_ms), a transfer is bounded by:
 * - the answer: once it began (its status line), it is complete within
 *   idle_ms and at most UP_WEB_REPLY_MAX bytes (headers and body): a
 *   device that drips or never ends its reply is not silent, but must end;
 * - a floor on progress, as an overall deadline: connect_ms + 3 idle_ms +
 *   the body at UP_WEB_FLOOR_BPS. (A device that reads a trickle is seen
 *   as silence first: the kernel's send buffer lets the body out in steps
 *   of a third of it.) */
#define UP_WEB_FLOOR_BPS 2048u
#define UP_WEB_REPLY_MAX 65536u

/* Which of those bounds ended a transfer (up_web_result.limit). */
typedef enum up_web_limit {
    UP_WEB_LIMIT_NONE = 0,
    UP_WEB_LIMIT_SILENCE,   /* nothing moved for idle_ms */
    UP_WEB_LIMIT_REPLY_SLOW, /* the answer not complete idle_ms after it began */
    UP_WEB_LIMIT_ENDLESS,   /* the answer went past UP_WEB_REPLY_MAX */
    UP_WEB_LIMIT_DEADLINE   /* the overall deadline */
} up_web_limit;

typedef enum up_web_auth {
    UP_WEB_AUTH_BASIC = 0,   /* sent with the first request */
    UP_WEB_AUTH_DIGEST = 1,  /* a probe without body, then digest (MD5) */
    UP_WEB_AUTH_ANY = 2      /* what the server's challenge asks for */
} up_web_auth;

typedef enum up_web_outcome {
    UP_WEB_RUNNING = 0,
    UP_WEB_OK,          /* 200 and "Update Successful!" */
    UP_WEB_HTTP,        /* an HTTP answer that is not a success */
    UP_WEB_REFUSED,     /* connection refused */
    UP_WEB_UNREACHABLE, /* no route, network down, ... */
    UP_WEB_TIMEOUT,     /* connect timeout, silence, a bound of time (limit) */
    UP_WEB_CLOSED,      /* closed (or reset) without a (whole) answer */
    UP_WEB_PROTOCOL,    /* the answer is not HTTP, or endless */
    UP_WEB_IO,          /* another network error */
    UP_WEB_INTERNAL     /* libcurl could not be set up, out of memory */
} up_web_outcome;

/* Name for --json "error" (UP_WEB_OK: NULL). */
const char *up_web_outcome_name(up_web_outcome o);

typedef struct up_web_params {
    const char *url;           /* http://ADDRESS:PORT/update */
    const char *filename;      /* the form part's filename */
    const uint8_t *data;       /* the bytes to send; must outlive the transfer */
    size_t len;
    const char *username;      /* NULL: no credentials */
    const char *password;
    up_web_auth auth;
    uint32_t connect_ms;       /* TCP connect */
    uint32_t idle_ms;          /* longest silence once connected */
    int verbose;               /* libcurl's own trace on stderr */
    void *user;
} up_web_params;

typedef struct up_web_result {
    up_web_outcome outcome;
    int connected;             /* a TCP connection was made */
    long http_status;          /* the final answer's status; 0: none */
    char reply[384];           /* its body: one line, printable, cut */
    int challenged;            /* a 401 with WWW-Authenticate came */
    long auth_offered;         /* CURLAUTH_* bits the server offered */
    const char *auth_used;     /* "basic", "digest" or "none" */
    uint64_t body_sent;        /* bytes of the request body that went out */
    uint64_t body_size;        /* the multipart body: image + framing */
    uint64_t image_read;       /* image bytes libcurl took (last request) */
    int all_sent;              /* the whole body went out */
    uint64_t reply_bytes;      /* bytes of the final answer (headers + body) */
    up_web_limit limit;        /* which bound ended it, if one did */
    uint64_t elapsed_ms;       /* from the start to the end */
    int sys_err;               /* errno of a network failure, or 0 */
    int curl_code;             /* CURLcode */
    char curl_msg[256];        /* libcurl's words for it */
} up_web_result;

typedef struct up_web_multi up_web_multi;
typedef struct up_web_xfer up_web_xfer;

/* One per run. NULL when libcurl cannot be set up (message in err). */
up_web_multi *up_web_multi_new(char *err, size_t errlen);
void up_web_multi_free(up_web_multi *m); /* after every transfer was freed */

/* Start a transfer (it runs from the next up_web_poll). NULL with a
 * message in err when libcurl refuses the setup. */
up_web_xfer *up_web_start(up_web_multi *m, const up_web_params *p, char *err, size_t errlen);

/* Wait for the transfers' sockets and the caller's own descriptors (fds,
 * revents filled in as poll() does) for at most timeout_ms, then let
 * libcurl work. Returns the number of the caller's descriptors that are
 * ready, or -1 (errno set) when waiting failed. */
int up_web_poll(up_web_multi *m, struct pollfd *fds, size_t n, long timeout_ms);

/* The next transfer that ended since the last call, its result filled in;
 * NULL when none. */
up_web_xfer *up_web_next_done(up_web_multi *m);

const up_web_result *up_web_result_of(const up_web_xfer *x);
void *up_web_user(const up_web_xfer *x);

/* Body bytes sent so far and the body's size (0 until known). */
void up_web_progress(const up_web_xfer *x, uint64_t *sent, uint64_t *total);

/* Remove from the multi handle and free (running or ended). */
void up_web_free(up_web_multi *m, up_web_xfer *x);

/* What the caller knows that the sentence needs. */
typedef struct up_web_describe_ctx {
    const char *show;          /* "192.168.1.20:80" */
    uint16_t port;
    int have_credentials;
    up_web_auth auth;
    uint32_t connect_ms, idle_ms;
} up_web_describe_ctx;

/* One sentence for a failed transfer: the status in words and what to do,
 * with the device's own reason from the reply body. */
void up_web_describe(const up_web_result *r, const up_web_describe_ctx *c, char *out, size_t outlen);

#endif
