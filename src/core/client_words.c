/*
 * client_words.c: the uploader engine's words for people: each phase's
 * short name (for JSON and logs) and its words for messages, and each
 * error's name (include/eota/client.h).
 */
#include "eota/client.h"

#if EOTA_WITH_CLIENT

/* Each phase's short name and its words for messages, in enum order. */
static const struct phase_words {
    const char *name;
    const char *describe;
} phase_words[] = {
    {"none", "before the upload started"},
    {"connect", "connecting"},
    {"hello", "the handshake (waiting for the protocol version)"},
    {"features", "the handshake (waiting for the feature reply)"},
    {"noise", "the encryption handshake (Noise)"},
    {"auth", "authentication"},
    {"prepare", "preparation (waiting for the device to accept the image size)"},
    {"md5", "preparation (waiting for the device to take the image's MD5)"},
    {"data", "the data transfer"},
    {"receive", "the end of the transfer (waiting for the device to confirm it has every byte)"},
    {"verify", "verification (waiting for the device to check and install the image)"},
    {"final", "the final acknowledgement"},
    {"end", "the end of the upload"},
};

static const struct phase_words *phase_entry(eota_client_phase phase)
{
    unsigned i = (unsigned)phase;
    return i < sizeof phase_words / sizeof phase_words[0] ? &phase_words[i] : NULL;
}

const char *eota_client_phase_name(eota_client_phase phase)
{
    const struct phase_words *w = phase_entry(phase);
    return w ? w->name : "unknown";
}

const char *eota_client_phase_describe(eota_client_phase phase)
{
    const struct phase_words *w = phase_entry(phase);
    return w ? w->describe : "an unknown step";
}

const char *eota_client_error_name(eota_client_error err)
{
    switch (err) {
    case EOTA_CLIENT_OK: return "ok";
    case EOTA_CLIENT_ERR_DEVICE: return "device_error";
    case EOTA_CLIENT_ERR_CLOSED: return "closed";
    case EOTA_CLIENT_ERR_TIMEOUT: return "timeout";
    case EOTA_CLIENT_ERR_IO: return "network_error";
    case EOTA_CLIENT_ERR_PROTOCOL: return "protocol_error";
    case EOTA_CLIENT_ERR_VERSION: return "unsupported_version";
    case EOTA_CLIENT_ERR_PASSWORD_REQUIRED: return "password_required";
    case EOTA_CLIENT_ERR_IMAGE: return "image_error";
    case EOTA_CLIENT_ERR_CRYPTO: return "crypto_error";
    case EOTA_CLIENT_ERR_CANCELLED: return "cancelled";
    case EOTA_CLIENT_ERR_NOISE_KEY: return "wrong_key";
    case EOTA_CLIENT_ERR_NOISE_UNOFFERED: return "encryption_unavailable";
    case EOTA_CLIENT_ERR_NOISE: return "encryption_error";
    case EOTA_CLIENT_ERR_REFUSED: return "refused";
    case EOTA_CLIENT_ERR_UNREACHABLE: return "unreachable";
    case EOTA_CLIENT_ERR_RESOLVE: return "resolve_error";
    }
    return "unknown";
}

#endif /* EOTA_WITH_CLIENT */
