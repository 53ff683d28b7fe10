/*
 * schema.h: the YAML schema engine under the config reader. It loads a
 * file as a libyaml node tree (anchors and aliases resolve by reference,
 * so alias bombs cost nothing), resolves `!secret` from secrets.yaml
 * beside the file, checks mappings against tables of accepted keys and
 * reads typed values. It knows nothing of ESPHome's blocks.
 *
 * The first problem stops everything and is written to the caller's buffer
 * as FILE:LINE:COLUMN: key 'PATH': MESSAGE (1-based line and column). A
 * value is quoted in a message only when it cannot be secret: anything
 * read through !secret, and sensitive values, show as <hidden>.
 */
#ifndef EOTA_APP_CONFIG_SCHEMA_H
#define EOTA_APP_CONFIG_SCHEMA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <yaml.h>

#include "eota/status.h"

#define SCHEMA_PATH_LEN 192 /* a key's path: 'ota[0].on_end[1].shell' */
#define SCHEMA_SHOW_LEN 80  /* a value as quoted in a message */

typedef struct schema_ctx {
    const char *file;      /* the file being read, for messages */
    yaml_document_t *doc;  /* its node tree */
    void *target;          /* the struct the keys' store offsets point into */
    char *err;             /* the caller's message buffer (may be NULL) */
    size_t errlen;
    int status;            /* the first problem's eota_status; 0 while none */
    /* secrets.yaml beside the file, read at the first !secret */
    char *secrets_path;
    bool secrets_loaded;
    yaml_document_t secrets;
    /* the nodes of doc reached from more than one place (YAML aliases):
     * never quoted in a message, since an alias may put a password where
     * a number is expected; built at the first question (schema_shared) */
    unsigned char *shared;
    const yaml_document_t *shared_doc;
} schema_ctx;

/* ---- messages (schema_error.c) ---------------------------------------- */

/* Record the first problem: FILE[:L:C][: key 'PATH']: MESSAGE with the
 * status (EOTA_EINVAL, EOTA_EIO). Always returns -1. */
__attribute__((format(printf, 6, 7))) int
schema_failx(schema_ctx *c, int status, const char *file, const yaml_mark_t *mark,
             const char *path, const char *fmt, ...);

/* The common case: a problem at a node of the file being read. */
#define FAIL(c, node, path, ...) \
    schema_failx((c), EOTA_EINVAL, (c)->file, &(node)->start_mark, (path), __VA_ARGS__)

/* "expected WANT, got 'TEXT'" ('nothing' when text is NULL; <hidden>
 * when hidden). Returns -1. */
int schema_expected(schema_ctx *c, yaml_node_t *n, const char *path, const char *want,
                    const char *text, bool hidden);

int schema_oom(schema_ctx *c);                     /* EOTA_EIO; -1 */
char *schema_strdup(schema_ctx *c, const char *s); /* NULL after schema_oom */

/* Paths in SCHEMA_PATH_LEN buffers: "parent.key" and "parent[i]". Control
 * characters (keys come from the file) become '?'. Return buf. */
const char *schema_path_key(char *buf, const char *parent, const char *key);
const char *schema_path_index(char *buf, const char *parent, size_t i);

/* "'abc'" (shortened, unprintable bytes as '?') or "<hidden>", in a
 * SCHEMA_SHOW_LEN buffer. */
const char *schema_show(char *buf, const char *text, bool hidden);
/* What a node is, for "got ...": a mapping, a list, nothing, or its text
 * (<hidden> when hidden, read through !secret, or shared by an alias). The
 * macro passes the caller's schema_ctx *c. */
const char *schema_describe_in(schema_ctx *c, char *buf, const yaml_node_t *n, bool hidden);
#define schema_describe(buf, n, hidden) schema_describe_in(c, (buf), (n), (hidden))

/* Whether node n of the file being read is reached through an alias
 * (from more than one place): its text is then never shown. */
bool schema_shared(schema_ctx *c, const yaml_node_t *n);

/* The message for a lambda (a tag or an action). */
extern const char schema_lambda_msg[];

/* Accept the YAML core tags and !secret (on scalars); refuse the others. */
int schema_check_tag(schema_ctx *c, yaml_node_t *n, const char *path);

/* ---- files (schema_load.c) --------------------------------------------- */

/* Load exactly one YAML document from path; what names it in messages
 * ("configuration file"). 0 ok (doc to be deleted by the caller), -1 on
 * failure (nothing to delete). */
int schema_load(schema_ctx *c, const char *path, yaml_document_t *doc, const char *what);

/* Delete a document, its scalars wiped first (any may be a secret). */
void schema_doc_delete(yaml_document_t *doc);

/* Release what reading secrets took. */
void schema_release(schema_ctx *c);

/* The value of a !secret node n: *out points into the secrets file's
 * tree, alive until schema_release. */
int schema_secret(schema_ctx *c, yaml_node_t *n, const char *path, const char **out);

/* ---- nodes and scalars (schema_node.c) --------------------------------- */

static inline yaml_node_t *schema_node(schema_ctx *c, int idx)
{
    return yaml_document_get_node(c->doc, idx);
}

static inline const char *schema_text(const yaml_node_t *n)
{
    return (const char *)n->data.scalar.value;
}

static inline bool schema_tag_is(const yaml_node_t *n, const char *tag)
{
    return n->tag && strcmp((const char *)n->tag, tag) == 0;
}

/* A key's text, "?" for a key that is not a scalar. */
static inline const char *schema_key_text(const yaml_node_t *k)
{
    return k->type == YAML_SCALAR_NODE ? schema_text(k) : "?";
}

/* A null scalar: `~`, `null`, nothing at all. */
bool schema_is_null(const yaml_node_t *n);

/* The value (or the key node) of key in a mapping; NULL when absent. */
yaml_node_t *schema_doc_map_get(yaml_document_t *doc, yaml_node_t *map, const char *key);
yaml_node_t *schema_map_get(schema_ctx *c, yaml_node_t *map, const char *key);
yaml_node_t *schema_map_key(schema_ctx *c, yaml_node_t *map, const char *key);

/* A scalar's text. want describes the expected value for type errors.
 * *out is NULL for a null value (the caller decides). *hidden is set when
 * the text came through !secret. */
int schema_scalar(schema_ctx *c, yaml_node_t *n, const char *path, const char *want,
                  const char **out, bool *hidden);

/* ---- typed values (schema_get.c) --------------------------------------- */

#define SCHEMA_SENSITIVE 0x01u /* never show the value; wipe the old one */
#define SCHEMA_EMPTY_OK 0x02u  /* "" is a value */

/* A string: any non-null scalar (numbers are taken as written); *dst is
 * replaced by a heap copy. */
int schema_get_str(schema_ctx *c, yaml_node_t *n, const char *path, unsigned flags,
                   char **dst);
int schema_get_bool(schema_ctx *c, yaml_node_t *n, const char *path, bool *dst);
int schema_get_int(schema_ctx *c, yaml_node_t *n, const char *path, long long lo,
                   long long hi, long long *dst);
int schema_get_port(schema_ctx *c, yaml_node_t *n, const char *path, uint16_t *dst);
/* A time period (units.h); zero_ok: "0s" is a value. */
int schema_get_duration(schema_ctx *c, yaml_node_t *n, const char *path, bool zero_ok,
                        uint32_t *dst);
/* A size or speed (units.h) from lo to hi. */
int schema_get_size(schema_ctx *c, yaml_node_t *n, const char *path, bool per_second,
                    uint64_t lo, uint64_t hi, uint64_t *dst);
/* The strings of a list node (the caller has checked that it is one): the
 * first read with first_flags, the others with flags, into a NULL-
 * terminated heap array (*list stays NULL for an empty list); *count
 * counts the strings read, also when one fails. */
int schema_get_strings(schema_ctx *c, yaml_node_t *list, const char *path,
                       unsigned first_flags, unsigned flags, char ***out, size_t *count);
/* The value of a key the mapping must have; NULL after "required key
 * missing". p (SCHEMA_PATH_LEN) receives the key's path. */
yaml_node_t *schema_require(schema_ctx *c, yaml_node_t *map, const char *path,
                            const char *key, char *p);
/* One of a NULL-terminated list of names (fold: in any case), its index
 * in *dst; want is the "expected ..." text. */
int schema_get_name(schema_ctx *c, yaml_node_t *n, const char *path, const char *want,
                    const char *const *names, bool fold, int *dst);
/* One of a NULL-terminated list (case-sensitive); its index in *dst. */
int schema_get_choice(schema_ctx *c, yaml_node_t *n, const char *path,
                      const char *const *choices, int *dst);

/* ---- mappings against tables of accepted keys (schema_keys.c) ---------- */

typedef enum schema_kind {
    K_CUSTOM,   /* handled by the caller */
    K_STR,      /* a non-empty string (numbers as written) */
    K_BOOL,
    K_INT,      /* 0 .. 2^31-1 */
    K_DURATION,
    K_CHOICE,   /* one of the key's choices */
    K_SUB,      /* a mapping checked against the key's sub table */
    K_ANY_MAP,  /* a mapping (or nothing), content not checked */
    K_ANY_LIST, /* a list (or nothing), content not checked */
    K_ANY,      /* anything, not checked: the blocks we ignore */
    K_MOVED     /* not accepted: a key that moved; the hint says where */
} schema_kind;

typedef struct schema_key {
    const char *key;
    schema_kind kind;
    const struct schema_key *sub;  /* K_SUB */
    const char *const *choices;    /* K_CHOICE */
    const char *hint;              /* K_MOVED */
    size_t store; /* K_STR, K_CHOICE: offsetof(target, char * field) + 1, or 0 */
} schema_key;

#define KEY(k, kind) {(k), (kind), NULL, NULL, NULL, 0}
#define KSUB(k, sub) {(k), K_SUB, (sub), NULL, NULL, 0}
#define KCHOICE(k, choices) {(k), K_CHOICE, NULL, (choices), NULL, 0}
#define KSTR_AT(k, offset) {(k), K_STR, NULL, NULL, NULL, (offset) + 1}
#define KCHOICE_AT(k, choices, offset) {(k), K_CHOICE, NULL, (choices), NULL, (offset) + 1}
#define KMOVED(k, hint) {(k), K_MOVED, NULL, NULL, (hint), 0}
#define KEND {NULL, K_CUSTOM, NULL, NULL, NULL, 0}

/* n must have an accepted tag and be a node of type (or null, when
 * null_ok); kind names the type in the message ("expected KIND, got
 * ..."). */
int schema_expect(schema_ctx *c, yaml_node_t *n, const char *path, yaml_node_type_t type,
                  bool null_ok, const char *kind);

/* The key of the pair pr of map must not be given before it in map; path
 * names it. */
int schema_unique_key(schema_ctx *c, yaml_node_t *map, yaml_node_pair_t *pr, const char *path);

/* map must be a mapping (or null: an empty block) whose keys are all in
 * the table, once each. */
int schema_check_keys(schema_ctx *c, yaml_node_t *map, const char *path,
                      const schema_key *keys);

/* Check the keys, then read every key of a simple kind (storing K_STR and
 * K_CHOICE values that have a store offset); K_CUSTOM keys are left to the
 * caller. */
int schema_apply(schema_ctx *c, yaml_node_t *map, const char *path, const schema_key *keys);

#endif
