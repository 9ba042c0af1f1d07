"""The C declarations of libvouch this package uses, and how it finds the library.

The declarations are copied by hand from include/vouch/*.h (cffi's ABI mode
reads no headers).  tests/test_abi.py compiles them against the real headers
in cffi's API mode, which checks every struct field's type and offset, so a
header change that these lines miss fails the tests instead of corrupting
memory.
"""
import os

import cffi

CDEF = r"""
/* errors.h */
typedef enum vouch_rc {
  VOUCH_OK = 0,
  VOUCH_E_NOMEM = 1,
  VOUCH_E_INVALID = 2,
  VOUCH_E_LIMIT = 3,
  VOUCH_E_UNSUPPORTED = 4,
  VOUCH_E_INTERNAL = 5,
  VOUCH_E_NOT_FOUND = 6,
  VOUCH_E_EXISTS = 7,
  VOUCH_E_IMAGE_FORMAT = 10,
  VOUCH_E_IMAGE_CORRUPT = 11,
  VOUCH_E_IMAGE_TOO_LARGE = 12,
  VOUCH_E_IMAGE_EMPTY = 13,
  VOUCH_E_IMAGE_TOO_SMALL = 14,
  VOUCH_E_HASH_PARSE = 20,
  VOUCH_E_DB_CORRUPT = 21,
  VOUCH_E_DB_VERSION = 22,
  VOUCH_E_DB = 23,
  VOUCH_E_ALGO_MISMATCH = 24,
  VOUCH_E_PSI_FORMAT = 30,
  VOUCH_E_PSI_AUTH = 31,
  VOUCH_E_PSI_PARAMS = 32,
  VOUCH_E_AUDIT_PROOF = 40,
  VOUCH_E_AUDIT_SIGNATURE = 41,
  VOUCH_E_AUDIT_POLICY = 42,
  VOUCH_E_AUDIT_FORMAT = 43,
  VOUCH_E_AUDIT_FORK = 44,
  VOUCH_E_AUDIT_UNTRUSTED = 45,
  VOUCH_E_IO = 50,
  VOUCH_E_MAXCODE_ = 99
} vouch_rc;
int vouch_init(void);
int vouch_version_number(void);
const char *vouch_version_string(void);
const char *vouch_strerror(int rc);
int vouch_rc_class(int rc);

/* hash.h */
size_t vouch_algo_bytes(int algo);
const char *vouch_algo_name(int algo);
int vouch_algo_from_name(const char *name);
const char *vouch_dihedral_name(int variant);
unsigned vouch_fast_min_side(void);
int vouch_hash_to_hex(const uint8_t *hash, size_t n, char *hex, size_t hex_cap);
int vouch_hash_from_hex(const char *hex, size_t hex_len, uint8_t *hash, size_t n);
unsigned vouch_hamming(const uint8_t *a, const uint8_t *b, size_t n);
typedef struct vouch_hasher vouch_hasher;
int vouch_hasher_create(vouch_hasher **out);
void vouch_hasher_free(vouch_hasher *h);

/* image.h */
typedef struct vouch_decode_opts {
  int apply_orientation;
  uint32_t min_side;
  uint32_t max_side;
  uint64_t max_pixels;
} vouch_decode_opts;
vouch_decode_opts vouch_decode_opts_default(void);
typedef struct vouch_decoder vouch_decoder;
int vouch_decoder_create(vouch_decoder **out, const vouch_decode_opts *opts);
void vouch_decoder_free(vouch_decoder *dec);
const char *vouch_decoder_errmsg(const vouch_decoder *dec);
int vouch_hash_encoded(vouch_hasher *h, vouch_decoder *dec, const void *data, size_t len,
                       int algo, unsigned flags, uint8_t *out, size_t out_cap, int *quality,
                       uint32_t *width, uint32_t *height);

/* index.h */
typedef struct vouch_index vouch_index;
typedef struct vouch_index_config {
  int build_mih;
  unsigned mih_m;
  int force_scalar;
  unsigned build_threads;
} vouch_index_config;
vouch_index_config vouch_index_config_default(void);
int vouch_index_open(vouch_index **out, const char *path, const vouch_index_config *cfg);
void vouch_index_free(vouch_index *idx);
const char *vouch_index_errmsg(const vouch_index *idx);
int vouch_index_algo(const vouch_index *idx);
size_t vouch_index_hash_bytes(const vouch_index *idx);
size_t vouch_index_count(const vouch_index *idx);
uint32_t vouch_index_bank_count(const vouch_index *idx);
const char *vouch_index_bank_name(const vouch_index *idx, uint32_t bank);
unsigned vouch_default_radius(int algo);
typedef struct vouch_index_entry {
  const uint8_t *hash;
  uint32_t bank;
  uint64_t entry_id;
  const char *ext_id; size_t ext_len;
  const char *source; size_t src_len;
} vouch_index_entry;
int vouch_index_get(const vouch_index *idx, size_t i, vouch_index_entry *e);
typedef struct vouch_match {
  uint32_t query;
  uint32_t entry;
  uint16_t distance;
  uint8_t variant;
  uint8_t pad_;
} vouch_match;
typedef struct vouch_search_opts {
  unsigned radius;
  int engine;
  unsigned threads;
} vouch_search_opts;
int vouch_index_search(vouch_index *idx, const uint8_t *queries, size_t nq, unsigned nvar,
                       const vouch_search_opts *opts, vouch_match **out, size_t *nout);
void vouch_matches_free(vouch_match *m);

/* bank.h */
typedef struct vouch_bank vouch_bank;
int vouch_bank_open(vouch_bank **out, const char *path, unsigned flags);
void vouch_bank_free(vouch_bank *db);
const char *vouch_bank_errmsg(const vouch_bank *db);
int vouch_bank_create(vouch_bank *db, const char *name, int algo);
int vouch_bank_remove(vouch_bank *db, const char *name);
int vouch_bank_set_enabled(vouch_bank *db, const char *name, int enabled);
int vouch_bank_entry_set_enabled(vouch_bank *db, const char *name, int selector,
                                 const char *value, int enabled, size_t *changed);
typedef struct vouch_bank_info {
  int64_t id;
  const char *name;
  int algo;
  int enabled;
  int64_t created_at;
  uint64_t entries;
  uint64_t enabled_entries;
  int radius;
} vouch_bank_info;
typedef int (*vouch_bank_info_cb)(void *ctx, const vouch_bank_info *info);
int vouch_bank_list(vouch_bank *db, const char *name, vouch_bank_info_cb cb, void *ctx);
typedef struct vouch_bank_entry {
  int64_t id;
  const uint8_t *hash;
  size_t hash_bytes;
  const char *ext_id;
  const char *sources;
  const char *tags;
  int enabled;
  int64_t added_at;
  int64_t disabled_until;
  const uint8_t *second;
} vouch_bank_entry;
typedef int (*vouch_bank_entry_cb)(void *ctx, const vouch_bank_entry *e);
int vouch_bank_entries(vouch_bank *db, const char *name, vouch_bank_entry_cb cb, void *ctx);
typedef int (*vouch_list_error_cb)(void *ctx, size_t line, const char *msg);
typedef struct vouch_list_page vouch_list_page;
typedef struct vouch_list_opts {
  int algo;
  int format;
  const char *column;
  const char *signal_type;
  int min_quality;
  vouch_list_page *page;
} vouch_list_opts;
typedef struct vouch_import_opts {
  vouch_list_opts list;
  const char *source;
  int strict;
  vouch_list_error_cb error;
  void *error_ctx;
  int64_t now;
} vouch_import_opts;
typedef struct vouch_import_stats {
  size_t added;
  size_t merged;
  size_t bad;
  int format;
  size_t skipped;
  size_t low_quality;
  size_t tombstones;
  size_t disabled;
  size_t reenabled;
} vouch_import_stats;
int vouch_bank_import(vouch_bank *db, const char *name, const char *data, size_t len,
                      const vouch_import_opts *opts, vouch_import_stats *stats);
const char *vouch_list_format_name(int format);
size_t vouch_bank_entry_csv(const vouch_bank_entry *e, char *out, size_t cap);
int vouch_bank_build_index(vouch_bank *db, const char *const *names, size_t nnames,
                           const char *path, uint8_t root[32], size_t *count);
"""

# Constants from the headers (macros, which ABI mode cannot see).
ALGO_PDQ = 1
HASH_DIHEDRAL = 1
DIHEDRAL_N = 8
HASH_MAX_BYTES = 32
IMAGE_MAX_BYTES = 512 * 1024 * 1024
BANK_OPEN_CREATE = 1
BANK_OPEN_READONLY = 2
ENGINES = {"auto": 0, "scan": 1, "mih": 2}
LIST_FORMATS = {"auto": 0, "hex": 1, "csv": 2, "tsv": 3, "jsonl": 4}
SELECTORS = {"entry": 1, "id": 2, "hash": 3}

ffi = cffi.FFI()
ffi.cdef(CDEF)


def _candidates():
    """Where the library is looked for, in order (python/README.md): the path
    in $VOUCH_LIBRARY when set, else the soname through the dynamic linker's
    search (LD_LIBRARY_PATH, the ldconfig cache)."""
    env = os.environ.get("VOUCH_LIBRARY")
    return [env] if env else ["libvouch.so.0"]


def _load():
    errors = []
    for name in _candidates():
        try:
            lib = ffi.dlopen(name)
        except OSError as e:
            errors.append(f"{name}: {e}")
            continue
        if lib.vouch_init() < 0:
            raise ImportError(f"vouch: vouch_init() failed in {name}")
        return lib
    raise ImportError("vouch: cannot load libvouch (set VOUCH_LIBRARY to the path of libvouch.so.0, "
                      "or install the libvouch0 package): " + "; ".join(errors))


lib = _load()
