/*
 * internal.h: the parts of pull updates (pull.h) and what they share.
 *   version.c   semantic version comparison
 *   record.c    the version installed, kept beside the slots
 *   manifest.c  reading manifest.json (cJSON), finding this chip's build
 *   trust.c     a signed release checked against ota signature: before
 *               the download (key ids, security counter, version)
 *   http.c      libcurl's multi interface in the device's poll loop
 *   check.c     the conditional manifest request and the decision
 *   download.c  the image into the ingest, resumed with Range/If-Range
 *   commit.c    the end of a transfer: resume, start over, checks, install
 *   partial.c   the bytes of a download kept for a resume after a restart
 *   flash.c     the ota.http_request.flash action through the same path
 *   pull.c      the schedule (jitter, backoff), the states, the status
 */
#ifndef EOTA_APP_PULL_INTERNAL_H
#define EOTA_APP_PULL_INTERNAL_H

#include <curl/curl.h>
#include <stddef.h>
#include <stdint.h>

#include "eota/ingest.h"
#include "eota/posix.h"
#include "eota/sig_layer.h"
#include "eota/signature.h"
#include "pull.h"

#define PULL_TAG "update"
#define PULL_VERSION_LEN 64
#define PULL_MANIFEST_MAX (64u * 1024u)
#define PULL_BUF_CAP (64u * 1024u)
#define PULL_RESUMES 3     /* Range requests after cuts, then it fails */

/* ---- version.c ---- */
/* -1, 0, 1 as a < b, a == b, a > b by semantic version (a leading 'v',
 * and build metadata after '+', are ignored; fewer than three numbers are
 * taken as .0); -2 when either is not a semantic version. */
int pull_semver_cmp(const char *a, const char *b);

/* ---- record.c ---- */
typedef struct pull_record {
    char slot;                 /* 'a'/'b'; 0 when there is no record */
    char version[PULL_VERSION_LEN];
    uint32_t size, crc;
} pull_record;
/* The record of a slot ('a'/'b') in dir (none: r->slot 0). */
void pull_record_read(const char *dir, char slot, pull_record *r);
/* 0, or -1 after a log line. */
int pull_record_write(const char *dir, const pull_record *r);

/* ---- manifest.c ---- */
#define PULL_KEY_ID_LEN 16         /* hex digits: 8 bytes of a key hash, as eota verify shows */
/* ota.signature: what the image's trailer says, as eota publish copied it. */
typedef struct pull_signature {
    int present;
    unsigned nkeys;
    char key_ids[EOTA_SIG_MAX_SIGS][PULL_KEY_ID_LEN + 1];
    char version[EOTA_SIG_VERSION_MAX + 1];
    uint32_t counter;
    uint32_t payload_size;
} pull_signature;

typedef struct pull_release {
    char version[PULL_VERSION_LEN];
    char url[2048];            /* the image, resolved against the manifest's URL */
    char md5[33];
    char sha256[65];           /* "" when the manifest has none */
    int64_t size;              /* -1 when the manifest has none */
    pull_signature sig;
} pull_release;
/* 0, or -1 with the reason in err. */
int pull_manifest_parse(const char *text, size_t len, const char *base_url, const char *family,
                        pull_release *rel, char *err, size_t errlen);

/* ---- trust.c ---- */
/* The ids of the trusted keys (cfg signature:), into out; how many. */
size_t pull_trusted_ids(const eota_config *cfg, char out[][PULL_KEY_ID_LEN + 1], size_t max);
/* NULL when the release may be downloaded; else why it is skipped (in
 * buf): with signature: configured, no signature data while signatures
 * are required, no trusted key among the signers, a lower security
 * counter than the running image's, a lower version (allow_downgrade:
 * false). running: the running image's record (known 0: none). */
const char *pull_trust_refusal(const eota_config *cfg, const pull_release *rel, char ids[][PULL_KEY_ID_LEN + 1],
                               size_t nids, const eota_sig_running *running, char *buf, size_t len);

/* ---- http.c ---- */
typedef struct pull_http {
    CURLM *multi;
    CURL *easy;                /* the transfer running, or NULL */
    struct pollfd socks[EOTA_PULL_MAX_FDS];
    int nsocks;
    int done;                  /* the transfer ended: result holds how */
    CURLcode result;
} pull_http;
int pull_http_init(pull_http *h);
void pull_http_free(pull_http *h);
/* A new easy handle with the http_request: settings for url. */
CURL *pull_http_easy(const eota_config *cfg, const char *url);
void pull_http_begin(pull_http *h, CURL *easy);
/* Remove and clean up the transfer (also when still running). */
void pull_http_end(pull_http *h);
void pull_http_perform(pull_http *h);
/* Why a transfer failed, in words, for the log. */
void pull_http_why(const eota_config *cfg, CURLcode rc, const char *url, char *buf, size_t len);

/* ---- the poller ---- */
typedef enum pull_state {
    PULL_IDLE = 0,             /* until next_at */
    PULL_CHECKING,             /* the manifest request runs */
    PULL_DOWNLOADING,          /* the image request runs */
    PULL_RESUME_WAIT,          /* cut; the Range request at next_at */
    PULL_COMMITTING,           /* the backend's end said AGAIN */
    PULL_REPLAYING,            /* the bytes kept before a restart go into the ingest */
    PULL_FETCHING_MD5          /* ota.http_request.flash's md5_url */
} pull_state;

struct eota_pull {
    eota_pull_opts o;
    pull_http http;
    pull_state state;
    uint64_t next_at;          /* ms, monotonic */
    unsigned failures;         /* in a row, for the backoff */
    eota_pull_status status;
    /* the manifest */
    char *body;
    size_t body_len;
    int body_too_big;
    char etag[256], last_modified[128];     /* of the manifest, for 304s */
    char hdr_etag[256], hdr_lm[128];        /* of the response in hand */
    long long hdr_range_start;              /* its Content-Range start, -1: none */
    int have_release;
    pull_release rel;
    /* the image */
    char img_etag[256], img_last_modified[128];
    long want_from;            /* the Range start of this request, 0: none */
    int changed;               /* If-Range answered 200: the file changed */
    unsigned resumes;
    uint64_t received;
    eota_ingest ingest;
    eota_posix_hash md5, sha;
    eota_hash sha_seam;
    uint8_t *buf;
    size_t buf_len;
    int paused;
    int checked;               /* size and hashes checked before the commit */
    int write_failed;          /* the backend refused: the ingest told the events */
    char family[32];           /* the device's chipFamily */
    char trusted[EOTA_SIG_KEYS_MAX][PULL_KEY_ID_LEN + 1]; /* ids of signature: keys */
    size_t ntrusted;
    char refused_md5[33];      /* the signature check refused this image: not fetched again */
    struct curl_slist *headers;
    int partial_fd;            /* pull_partial.bin, -1: none (partial.c) */
    int flash;                 /* the download is a flash action's (flash.c) */
    char announced[PULL_VERSION_LEN]; /* on_update_available fired for it */
};

/* check.c */
/* The header callback both requests use (ETag, Last-Modified, Content-Range). */
size_t pull_on_header(char *data, size_t size, size_t n, void *ctx);
/* A request for url with up to two extra headers ("" or NULL: none) and
 * the body to on_data; NULL when memory ran out. */
CURL *pull_request(eota_pull *p, const char *url, const char *h1, const char *h2,
                   size_t (*on_data)(char *, size_t, size_t, void *));
/* The manifest's (and md5_url's) body callback. */
size_t pull_on_body(char *data, size_t size, size_t n, void *ctx);
void pull_check_start(eota_pull *p);
void pull_check_done(eota_pull *p);
/* download.c */
void pull_download_start(eota_pull *p, int resume);
/* The backend's turn: 0, or -1 when it failed (write_failed). */
int pull_download_pump(eota_pull *p);
/* Bytes of the image (in p->buf) into the hash and the ingest: 0 or -1. */
int pull_feed(eota_pull *p, const uint8_t *data, size_t len);
void pull_download_abort(eota_pull *p);
/* commit.c: the transfer ended: resume, start over, fail or go on to
 * commit; and the commit's steps: 1 when installed (reboot). */
void pull_download_ended(eota_pull *p);
int pull_commit_step(eota_pull *p);
/* The download failed: the ingest told, the kept bytes dropped, logged. */
void pull_fail_download(eota_pull *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* flash.c: md5_url's answer arrived. */
void pull_flash_md5_done(eota_pull *p);
/* partial.c */
void pull_partial_open(eota_pull *p);   /* a fresh 200: keep what follows */
void pull_partial_write(eota_pull *p, const uint8_t *data, size_t len);
void pull_partial_close(eota_pull *p);  /* keep the files (a shutdown) */
void pull_partial_drop(eota_pull *p);   /* remove them */
/* 1 when bytes of this very release were kept (ready to replay). */
int pull_partial_find(eota_pull *p);
/* One turn of feeding them: 0 more to come, 1 all fed, -1 failed. */
int pull_partial_replay(eota_pull *p);
/* pull.c: the next check after a good one / a failure (logged, in status). */
void pull_schedule_ok(eota_pull *p);
void pull_fail(eota_pull *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A release not taken (logged, in status), the next check at the interval. */
void pull_skip(eota_pull *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
uint64_t pull_now_ms(void);

#endif
