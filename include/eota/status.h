/*
 * eota/status.h: the return values shared by the seams and the engines.
 * Non-negative values are successes (a count where a function says so);
 * negative values say why something did not happen.
 */
#ifndef EOTA_STATUS_H
#define EOTA_STATUS_H

#ifdef __cplusplus
extern "C" {
#endif

enum eota_status {
    EOTA_OK = 0,
    EOTA_AGAIN = -1,     /* would block / not finished yet: call again later */
    EOTA_CLOSED = -2,    /* the peer closed the connection in order */
    EOTA_EIO = -3,       /* an I/O error (reset, unreachable, ...) */
    EOTA_EINVAL = -4,    /* a bad argument */
    EOTA_EBUSY = -5,     /* an upload is already running */
    EOTA_ECRYPTO = -6,   /* the crypto or random seam failed */
    EOTA_ENOSPC = -7     /* a buffer given by the caller is too small */
};

#ifdef __cplusplus
}
#endif

#endif
