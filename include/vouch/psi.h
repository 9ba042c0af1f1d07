/*
 * vouch/psi.h -- threshold private set intersection with safety vouchers.
 *
 * The protocol, the file formats and the security argument are in
 * docs/protocol.md; this header is the API.  Three parties of code:
 *
 *   server setup   vouch_psi_server_key_*, vouch_psi_setup()      -> public data (.vpd)
 *   client         vouch_psi_public_open(), vouch_psi_account_*,
 *                  vouch_psi_voucher_make()                       -> one voucher per photo
 *   server         vouch_psi_server_*: add vouchers of one account, then reveal
 *
 * Every function that takes peer bytes (public data, vouchers, key and
 * account files) treats them as untrusted: any byte string gives a return
 * code, never a crash.  Secrets live in sodium_malloc()ed memory and are
 * wiped when freed.  Objects are not thread-safe; use one per thread, except
 * that a vouch_psi_public and a vouch_psi_server_key may be shared read-only.
 * vouch_init() must have been called.
 */
#ifndef VOUCH_PSI_H
#define VOUCH_PSI_H

#include "common.h"
#include "errors.h"
#include "hash.h"
#include "image.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- sizes and limits ---- */
#define VOUCH_PSI_MATCH_KEY_BYTES 32U
#define VOUCH_PSI_THRESHOLD_DEFAULT 30U
#define VOUCH_PSI_THRESHOLD_MAX 1000U
/* s, the number of synthetic openings detection tolerates (DHF width). */
#define VOUCH_PSI_DHF_MAX 1000U
/* The default s for a threshold t: 3t. */
#define VOUCH_PSI_DHF_DEFAULT(t) (3U * (t))
#define VOUCH_PSI_SET_MAX (64U * 1024U * 1024U)  /* keys in one setup */
#define VOUCH_PSI_SLOTS_MAX (160U * 1024U * 1024U)
#define VOUCH_PSI_ACCOUNT_VOUCHERS_MAX (1U << 22) /* vouchers one server object takes */
#define VOUCH_PSI_THUMB_SIDE 64U
#define VOUCH_PSI_THUMB_BYTES (VOUCH_PSI_THUMB_SIDE * VOUCH_PSI_THUMB_SIDE)
#define VOUCH_PSI_HASH_MAX_BYTES 32U
#define VOUCH_PSI_ID_BYTES 16U
#define VOUCH_PSI_SIGN_PK_BYTES 32U
#define VOUCH_PSI_ROOT_BYTES 32U  /* the audit root the public data publishes (a Merkle root) */
#define VOUCH_PSI_SEED_BYTES 32U  /* the dummy seed */
#define VOUCH_PSI_LABEL_BYTES 32U /* a slot's label: its match key, or a dummy label */

/* Key schemes (docs/protocol.md section 4). */
#define VOUCH_PSI_SCHEME_EXACT 0 /* the exact hash bits; one probe */
#define VOUCH_PSI_SCHEME_BAND 1  /* PDQ band key, P probes per voucher */
#define VOUCH_PSI_BAND_MIN 16U
#define VOUCH_PSI_BAND_MAX 64U
#define VOUCH_PSI_BAND_DEFAULT 44U
#define VOUCH_PSI_PROBES_MAX 1024U
#define VOUCH_PSI_PROBES_DEFAULT 96U  /* b and P: chosen from measurements, docs/protocol.md section 12 */
/* Wire format version (public data and vouchers); version 1 is refused
 * with VOUCH_E_PSI_VERSION. */
#define VOUCH_PSI_FORMAT_VERSION 2U

/* Public data size for m slots, and m for n keys (docs/protocol.md section 5). */
#define VOUCH_PSI_PUBLIC_BYTES(m) (320U + 32U * (size_t)(m))
/* Size of the auditors' file setup writes (docs/protocol.md section 13). */
#define VOUCH_PSI_AUDIT_BYTES(m) (72U + 4U * (size_t)(m))
/* Voucher size for DHF width s and P probes (docs/protocol.md section 6). */
#define VOUCH_PSI_VOUCHER_BYTES(s, probes) (4388U + 224U * (size_t)(probes) + 8U * (size_t)(s))
/* Server key file size. */
#define VOUCH_PSI_SERVER_KEY_FILE_BYTES 96U

VOUCH_API size_t vouch_psi_slots_for(size_t n);
VOUCH_API size_t vouch_psi_public_bytes(size_t m);
VOUCH_API size_t vouch_psi_voucher_bytes(unsigned s, unsigned probes);

/* ---- match keys ---- */

/*! vouch_psi_match_key() :
 *  The 32-byte key the protocol matches on: a domain-separated BLAKE2b of
 *  the exact hash bits, (algo, hash_len, hash).  For PDQ, two photos share
 *  a key iff their 256-bit hashes are identical.
 * @return : VOUCH_OK, or VOUCH_E_INVALID (hash_len 0 or > 32). */
VOUCH_API int vouch_psi_match_key(int algo, const uint8_t *hash, size_t hash_len,
                                  uint8_t out[VOUCH_PSI_MATCH_KEY_BYTES]);

/*! vouch_psi_band_key() :
 *  The band key of a PDQ hash (docs/protocol.md section 4): a domain-separated
 *  BLAKE2b of the bits of its b lowest-frequency DCT coefficients.  What a
 *  database entry contributes in the band scheme.
 * @return : VOUCH_OK, or VOUCH_E_INVALID (not PDQ, hash_len != 32, b out of
 *           VOUCH_PSI_BAND_MIN..MAX). */
VOUCH_API int vouch_psi_band_key(int algo, const uint8_t *hash, size_t hash_len, unsigned b,
                                 uint8_t out[VOUCH_PSI_MATCH_KEY_BYTES]);

/*! vouch_psi_probe_keys() :
 *  The client's P probe keys for a PDQ hash: its band key with the cheapest
 *  sets of band bits flipped, cheapest first, cost = the sum of the flipped
 *  bits' quantised margins (`margin`: 256 floats from
 *  vouch_hasher_pdq_margins(); NULL = all margins equal).  Key 0 is the band
 *  key itself.  `keys` receives 32 * probes bytes; `flips` (may be NULL)
 *  receives, per probe, the flipped band bits (bit r = band position r).
 *  This is the code vouchers use, and what `vouch eval` measures.
 * @return : VOUCH_OK, VOUCH_E_NOMEM, VOUCH_E_INVALID. */
VOUCH_API int vouch_psi_probe_keys(int algo, const uint8_t *hash, size_t hash_len,
                                   const float *margin, unsigned b, unsigned probes,
                                   uint8_t *keys, uint64_t *flips);

/* ---- tonal views (docs/protocol.md section 4.3) ---- */
#define VOUCH_PSI_VIEWS 4U /* gamma 2/3, 3/2, 4/5, 5/4 of the client's photo */

/* The client's photo seen through the view curves: a PDQ hash and its
 * margins per view.  n = 0: no views (the probes come from the photo's own
 * hash only). */
typedef struct vouch_psi_views {
  unsigned n;
  uint8_t hash[VOUCH_PSI_VIEWS][32];
  float margin[VOUCH_PSI_VIEWS][256];
} vouch_psi_views;

/*! vouch_psi_views_make() :
 *  Fills `v` with the PDQ hash and margins of `img` (RGB or grey) under each
 *  view's gamma curve (a per-channel lookup table, then vouch_hash_image()).
 *  Any working size PDQ hashes well works; the CLI uses a fast-mode decode.
 * @return : VOUCH_OK, VOUCH_E_INVALID, VOUCH_E_NOMEM, or the hasher's error
 *           (then v->n = 0). */
VOUCH_API int vouch_psi_views_make(vouch_hasher *h, const vouch_image *img, vouch_psi_views *v);

/*! vouch_psi_probe_keys_views() :
 *  vouch_psi_probe_keys() for a photo with views: the photo's own hash gives
 *  the first P - n*floor(P/16) probes, then each view in turn gives its
 *  cheapest floor(P/16) probes whose band differs from every probe taken
 *  before (so all P keys are distinct).  `views` NULL or n = 0: exactly
 *  vouch_psi_probe_keys().  `flips` (may be NULL): per probe, the flipped
 *  bits relative to the band of the hash (photo or view) it came from.
 * @return : VOUCH_OK, VOUCH_E_NOMEM, VOUCH_E_INVALID. */
VOUCH_API int vouch_psi_probe_keys_views(int algo, const uint8_t *hash, size_t hash_len,
                                         const float *margin, const vouch_psi_views *views,
                                         unsigned b, unsigned probes, uint8_t *keys,
                                         uint64_t *flips);

/*! vouch_psi_probe_bands() :
 *  The probes of vouch_psi_probe_keys_views() before hashing: `band`
 *  receives, per probe, its b band bits (bit r = band position r); probe
 *  i's key is the band key of those bits.  With probes = 1 and no views,
 *  band[0] is the hash's own band.  For measurements (vouch eval).
 * @return : as vouch_psi_probe_keys_views(). */
VOUCH_API int vouch_psi_probe_bands(int algo, const uint8_t *hash, size_t hash_len,
                                    const float *margin, const vouch_psi_views *views, unsigned b,
                                    unsigned probes, uint64_t *band, uint64_t *flips);

/*! vouch_psi_band_positions() : the coefficient index (16 i + j) of band
 *  positions 0..b-1.  @return VOUCH_OK or VOUCH_E_INVALID. */
VOUCH_API int vouch_psi_band_positions(unsigned b, unsigned *pos);

/*! vouch_psi_entry_key() :
 *  The key a database entry contributes under a scheme: vouch_psi_match_key()
 *  for VOUCH_PSI_SCHEME_EXACT, vouch_psi_band_key(band) for VOUCH_PSI_SCHEME_BAND.
 * @return : VOUCH_OK or VOUCH_E_INVALID. */
VOUCH_API int vouch_psi_entry_key(int scheme, unsigned band, int algo, const uint8_t *hash,
                                  size_t hash_len, uint8_t out[VOUCH_PSI_MATCH_KEY_BYTES]);

/* ---- server key ---- */

typedef struct vouch_psi_server_key vouch_psi_server_key;

/*! vouch_psi_server_key_generate() : a fresh alpha and Ed25519 key pair. */
VOUCH_API int vouch_psi_server_key_generate(vouch_psi_server_key **out);
/*! vouch_psi_server_key_load() : parses a key file of VOUCH_PSI_SERVER_KEY_FILE_BYTES.
 * @return : VOUCH_OK, VOUCH_E_NOMEM, VOUCH_E_PSI_FORMAT (bad size, magic, scalar or checksum). */
VOUCH_API int vouch_psi_server_key_load(vouch_psi_server_key **out, const uint8_t *buf, size_t len);
/*! vouch_psi_server_key_save() : writes VOUCH_PSI_SERVER_KEY_FILE_BYTES bytes.
 *  The buffer then holds a secret: wipe it (sodium_memzero) when done. */
VOUCH_API int vouch_psi_server_key_save(const vouch_psi_server_key *key, uint8_t *buf, size_t cap);
/*! vouch_psi_server_key_signer() : the Ed25519 public key clients may pin. */
VOUCH_API void vouch_psi_server_key_signer(const vouch_psi_server_key *key,
                                           uint8_t pk[VOUCH_PSI_SIGN_PK_BYTES]);
VOUCH_API void vouch_psi_server_key_free(vouch_psi_server_key *key); /* NULL is a no-op */

/* ---- setup ---- */

typedef struct vouch_psi_setup_opts {
  int algo;                 /* written into the public data; 0 = unspecified */
  unsigned threads;         /* worker threads for the blinding; 0 or 1 = calling thread only */
  const uint8_t *audit_root; /* VOUCH_PSI_ROOT_BYTES to publish as the audit root (e.g. the
                                index's Merkle root); NULL = the Merkle root over
                                the sorted, deduplicated match keys */
  int scheme;               /* VOUCH_PSI_SCHEME_EXACT (0, with probes 1) or _BAND; the
                               keys must have been made with vouch_psi_entry_key() */
  unsigned band;            /* band scheme: b (VOUCH_PSI_BAND_MIN..MAX); exact: 0 */
  unsigned probes;          /* band scheme: P (1..VOUCH_PSI_PROBES_MAX); exact: 0 or 1 */
  const uint8_t *dummy_seed; /* VOUCH_PSI_SEED_BYTES the dummy labels come from (keep it for the
                                auditors, never give it to clients); NULL = random,
                                wiped after setup (then no blinding proof can be made) */
  uint8_t *labels;          /* NULL, or room for labels_cap labels (VOUCH_PSI_LABEL_BYTES each): receives
                               each slot's label (its match key, or its dummy label) */
  size_t labels_cap;        /* slots labels can hold; at least vouch_psi_slots_for(n) */
  uint8_t *audit_out;       /* NULL, or room for VOUCH_PSI_AUDIT_BYTES(m) bytes (m <=
                               vouch_psi_slots_for(n)): receives the auditors' file (the
                               dummy seed and the slot map; secret from clients) */
  size_t audit_cap;         /* bytes audit_out can hold */
  size_t *audit_len;        /* NULL, or receives the auditors' file length */
} vouch_psi_setup_opts;

/*! vouch_psi_setup() :
 *  Builds the public data from `n` match keys (32 bytes each, back to back;
 *  duplicates allowed, they are removed).  `*out` receives a buffer of
 *  `*out_len` bytes allocated by the library: release it with vouch_free().
 *  `audit_root` may be NULL; otherwise it receives the audit root written in
 *  the public data (opts->audit_root, or the Merkle root over the sorted,
 *  deduplicated keys).  `opts` may be NULL.
 * @return : VOUCH_OK, VOUCH_E_NOMEM, VOUCH_E_LIMIT (n > VOUCH_PSI_SET_MAX),
 *           VOUCH_E_INVALID (scheme, band or probes out of range; the band
 *           scheme needs algo VOUCH_ALGO_PDQ),
 *           VOUCH_E_INTERNAL (cuckoo insertion failed 16 times: report it). */
VOUCH_API int vouch_psi_setup(const vouch_psi_server_key *key, const uint8_t *keys, size_t n,
                              const vouch_psi_setup_opts *opts, uint8_t **out, size_t *out_len,
                              uint8_t audit_root[VOUCH_PSI_ROOT_BYTES]);
VOUCH_API void vouch_psi_buf_free(uint8_t *buf); /* the same as vouch_free() (an older name) */

/* ---- proof of honest blinding (docs/protocol.md section 13) ---- */

#define VOUCH_PSI_BLINDING_PROOF_BYTES 64U

/*! vouch_psi_dummy_label() : the label of dummy slot `slot`, from the setup's dummy seed:
 *  KDF_32("dummy-label", key = seed, LE64(slot)).  A dummy slot holds alpha * H(label). */
VOUCH_API void vouch_psi_dummy_label(const uint8_t seed[VOUCH_PSI_SEED_BYTES], uint64_t slot,
                                      uint8_t label[VOUCH_PSI_LABEL_BYTES]);

/*! vouch_psi_blinding_prove() :
 *  A batched Chaum-Pedersen proof that every table point of the public data
 *  `pd` is alpha * H(labels[i]) for the alpha of its L.  `labels` holds one
 *  32-byte label per slot, in slot order (what setup wrote into opts->labels).
 *  Setup already puts this proof into the public data; this call is for
 *  tests and tools.  Costs m scalar multiplications and m hashes to the group.
 * @return : VOUCH_OK, VOUCH_E_NOMEM, VOUCH_E_PSI_FORMAT (not public data),
 *           VOUCH_E_PSI_PARAMS (pd was made with another key). */
VOUCH_API int vouch_psi_blinding_prove(const vouch_psi_server_key *key, const uint8_t *pd, size_t pd_len,
                                       const uint8_t *labels,
                                       uint8_t proof[VOUCH_PSI_BLINDING_PROOF_BYTES]);
/*! vouch_psi_blinding_verify() :
 *  Checks `proof` (NULL: the proof inside the public data) against the
 *  public data (its L, its table, its other signed bytes) and the labels.
 *  Does not check the signature or the labels' origin (vouch_psi_blinding_audit does).
 *  Costs 2m scalar multiplications and m hashes to the group.
 * @return : VOUCH_OK, VOUCH_E_PSI_FORMAT (not public data, a point that does
 *           not decode), VOUCH_E_PSI_VERSION, VOUCH_E_PSI_AUTH (the proof fails). */
VOUCH_API VOUCH_WARN_UNUSED int vouch_psi_blinding_verify(const uint8_t *pd, size_t pd_len,
                                                          const uint8_t *labels,
                                                          const uint8_t *proof);
/*! vouch_psi_blinding_audit() :
 *  The auditor's check: `keys` are the database's match keys (n of 32 bytes,
 *  derived with the public data's scheme; duplicates allowed) and `audit` the
 *  file setup wrote for auditors.  Checks that the file is for this public
 *  data, that its dummy seed is the one committed in it, that its slot map
 *  puts every distinct key exactly once, in one of the key's two cuckoo
 *  slots, and a dummy label everywhere else, and that the proof in the
 *  public data holds for these labels.  Does not check the signature.
 * @return : VOUCH_OK; VOUCH_E_NOMEM; VOUCH_E_PSI_FORMAT (a malformed file or
 *           public data); VOUCH_E_PSI_VERSION (older public data: no proof);
 *           VOUCH_E_PSI_PARAMS (the file is for other public data, or its seed
 *           is not the committed one, or the slot map does not hold exactly
 *           these keys); VOUCH_E_PSI_AUTH (the proof fails). */
VOUCH_API VOUCH_WARN_UNUSED int vouch_psi_blinding_audit(const uint8_t *pd, size_t pd_len,
                                                         const uint8_t *keys, size_t n,
                                                         const uint8_t *audit, size_t audit_len);

/* ---- public data, client side ---- */

typedef struct vouch_psi_public vouch_psi_public;

/*! vouch_psi_public_open() :
 *  Validates public data (signature, every point valid and not the
 *  identity, no duplicate points; docs/protocol.md section 5) and keeps a
 *  copy.  `signer` may be NULL; otherwise the data must be signed by it.
 *  Validation costs one point decode per slot (a few seconds for 1M keys).
 * @return : VOUCH_OK, VOUCH_E_NOMEM, VOUCH_E_PSI_FORMAT, VOUCH_E_PSI_AUTH,
 *           VOUCH_E_PSI_VERSION (an older format: regenerate it). */
VOUCH_API VOUCH_WARN_UNUSED int vouch_psi_public_open(vouch_psi_public **out, const uint8_t *buf,
                                                      size_t len,
                                                      const uint8_t signer[VOUCH_PSI_SIGN_PK_BYTES]);
VOUCH_API void vouch_psi_public_free(vouch_psi_public *pd); /* NULL is a no-op */
/*! vouch_psi_public_info() : slots, audit root, signer; any pointer may be NULL. */
VOUCH_API void vouch_psi_public_info(const vouch_psi_public *pd, size_t *slots, uint8_t root[VOUCH_PSI_ROOT_BYTES],
                                     uint8_t signer[VOUCH_PSI_SIGN_PK_BYTES]);
/*! vouch_psi_public_scheme() : algo, key scheme, band width b and probes P
 *  of the public data; any pointer may be NULL. */
VOUCH_API void vouch_psi_public_scheme(const vouch_psi_public *pd, int *algo, int *scheme,
                                       unsigned *band, unsigned *probes);

/* ---- client account ---- */

typedef struct vouch_psi_account vouch_psi_account;

/*! vouch_psi_account_create() :
 *  A new account: random id, Shamir polynomial of degree t, s DHF polynomials.
 * @return : VOUCH_OK, VOUCH_E_NOMEM, VOUCH_E_INVALID (t or s out of 1..MAX). */
VOUCH_API int vouch_psi_account_create(vouch_psi_account **out, unsigned t, unsigned s);
/*! vouch_psi_account_file_bytes() : size of the saved account. */
VOUCH_API size_t vouch_psi_account_file_bytes(const vouch_psi_account *a);
/*! vouch_psi_account_save() : writes vouch_psi_account_file_bytes() bytes (a secret: wipe after use). */
VOUCH_API int vouch_psi_account_save(const vouch_psi_account *a, uint8_t *buf, size_t cap);
/*! vouch_psi_account_load() : @return VOUCH_OK, VOUCH_E_NOMEM, VOUCH_E_PSI_FORMAT. */
VOUCH_API int vouch_psi_account_load(vouch_psi_account **out, const uint8_t *buf, size_t len);
/*! vouch_psi_account_params() : t, s and synthetic vouchers used so far; any pointer may be NULL. */
VOUCH_API void vouch_psi_account_params(const vouch_psi_account *a, unsigned *t, unsigned *s,
                                        unsigned *synthetic_used);
/*! vouch_psi_account_made() : vouchers made with this account so far (the library
 *  size the default synthetic rate is calibrated on; 0 for a version-1 account file). */
VOUCH_API uint32_t vouch_psi_account_made(const vouch_psi_account *a);
VOUCH_API void vouch_psi_account_free(vouch_psi_account *a); /* NULL is a no-op */

/* Pass as `synthetic_rate` for the calibrated default (docs/protocol.md section 6). */
#define VOUCH_PSI_SYNTHETIC_AUTO (-1.0)
/*! vouch_psi_synthetic_rate() :
 *  The calibrated probability that voucher number `made` (0 for an account's
 *  first) of an account with threshold t is synthetic:
 *  min(1, scale * 2t^2 / (made + 2t)^2).  At scale 1 the first voucher is
 *  synthetic with probability 1/2 and the expected total over any library is
 *  below t + 1 (about scale * t for a large one).  Returns 0 for t = 0 or a
 *  negative scale. */
VOUCH_API double vouch_psi_synthetic_rate(unsigned t, uint64_t made, double scale);

/* What a voucher carries for the server (readable only above the threshold). */
typedef struct vouch_psi_payload {
  int algo;                                  /* VOUCH_ALGO_* of hash */
  uint8_t hash_len;                          /* 1..32 */
  uint8_t hash[VOUCH_PSI_HASH_MAX_BYTES];
  uint8_t match_key[VOUCH_PSI_MATCH_KEY_BYTES];
  uint8_t thumb_w, thumb_h;                  /* 0..64; 0 x 0 = no thumbnail */
  uint8_t thumb[VOUCH_PSI_THUMB_BYTES];      /* grey, row-major, thumb_w per row */
} vouch_psi_payload;

/*! vouch_psi_payload_init() :
 *  Fills `p` for a photo: hash, match key (vouch_psi_match_key; a voucher
 *  made for band-scheme public data replaces it with the band key) and, when
 *  `img` is not NULL, a grey thumbnail of at most 64x64 keeping the aspect
 *  ratio (area average).  @return : VOUCH_OK or VOUCH_E_INVALID. */
VOUCH_API int vouch_psi_payload_init(vouch_psi_payload *p, int algo, const uint8_t *hash,
                                     size_t hash_len, const vouch_image *img);

/*! vouch_psi_voucher_make() :
 *  Writes one voucher of vouch_psi_voucher_bytes(s, P) bytes for `payload`
 *  (P from the public data).  For band-scheme public data the voucher holds
 *  P probe slot pairs (vouch_psi_probe_keys() of payload->hash); `margin` is
 *  the photo's 256 margins (vouch_hasher_pdq_margins()), or NULL when only
 *  the hash is known (then all costs are equal and the probes flip the first
 *  band bits in insertion order, which finds far fewer edited copies).  The exact scheme ignores `margin`.
 *  With probability `synthetic_rate` (0..1, or VOUCH_PSI_SYNTHETIC_AUTO: the
 *  calibrated rate vouch_psi_synthetic_rate(t, made, 1)), while the account
 *  has used fewer than s, the voucher is synthetic instead (it opens like a
 *  match but carries nothing).  The coin is a keyed hash of the photo's key
 *  under the account secret, so one photo always draws the same coin: at the
 *  same rate it is always the same kind.  The account counts vouchers and
 *  synthetics, so save the account afterwards.
 *  `synthetic` may be NULL; otherwise it says which kind was written (the
 *  client's own knowledge: never send it).
 * @return : VOUCH_OK, VOUCH_E_NOMEM, VOUCH_E_INVALID (small cap, rate out of
 *           range, a band scheme and a payload that is not a PDQ hash),
 *           VOUCH_E_PSI_FORMAT (the slot's point does not decode). */
VOUCH_API int vouch_psi_voucher_make(vouch_psi_account *a, const vouch_psi_public *pd,
                                     const vouch_psi_payload *payload, const float *margin,
                                     double synthetic_rate, uint8_t *out, size_t cap,
                                     int *synthetic);

/*! vouch_psi_voucher_make_views() :
 *  vouch_psi_voucher_make() whose probes also come from the photo's tonal
 *  views (vouch_psi_views_make(), vouch_psi_probe_keys_views()); what
 *  `vouch psi voucher` uses.  `views` NULL: vouch_psi_voucher_make().  Same
 *  size and layout: the server cannot tell which was used. */
VOUCH_API int vouch_psi_voucher_make_views(vouch_psi_account *a, const vouch_psi_public *pd,
                                           const vouch_psi_payload *payload, const float *margin,
                                           const vouch_psi_views *views, double synthetic_rate,
                                           uint8_t *out, size_t cap, int *synthetic);

/*! vouch_psi_voucher_id() :
 *  The voucher id: the 16 random bytes at offset 48 of the voucher header
 *  (docs/protocol.md section 6) that name one voucher, e.g. in a file name.
 *  Reads only the header: the voucher is not opened or authenticated.
 * @return : VOUCH_OK, VOUCH_E_PSI_FORMAT (shorter than a header or not a
 *           voucher), VOUCH_E_PSI_VERSION (a version-1 voucher); `id` is
 *           left untouched on error. */
VOUCH_API int vouch_psi_voucher_id(const uint8_t *voucher, size_t len, uint8_t id[VOUCH_PSI_ID_BYTES]);

/* ---- server ---- */

typedef struct vouch_psi_server vouch_psi_server;

/* Outcome of vouch_psi_server_add(). */
typedef enum vouch_psi_status {
  VOUCH_PSI_NOT_OPENED = 0, /* not a match (or a well-formed voucher for someone else's table) */
  VOUCH_PSI_OPENED = 1,     /* a match or a synthetic voucher: counted */
  VOUCH_PSI_DUPLICATE = 2   /* a replay, or the same photo key again: not counted again */
} vouch_psi_status;

/*! vouch_psi_server_create() : state for the vouchers of one account.
 *  `key` must stay valid while the server object is used; `pd` is the public
 *  data this key produced (only its id is kept, no copy).
 * @return : VOUCH_OK, VOUCH_E_NOMEM, VOUCH_E_INVALID, VOUCH_E_PSI_FORMAT (not
 *           public data), VOUCH_E_PSI_VERSION (an older format),
 *           VOUCH_E_PSI_PARAMS (made with another key). */
VOUCH_API int vouch_psi_server_create(vouch_psi_server **out, const vouch_psi_server_key *key,
                                      const uint8_t *pd, size_t pd_len);
VOUCH_API void vouch_psi_server_free(vouch_psi_server *srv); /* NULL is a no-op */

/*! vouch_psi_server_add() :
 *  Processes one voucher.  `*status` gets a vouch_psi_status, `*index` the
 *  voucher's number (0, 1, ... in call order; counted even when not opened).
 * @return : VOUCH_OK; VOUCH_E_PSI_FORMAT (malformed, or not for this public
 *           data); VOUCH_E_PSI_VERSION (a version-1 voucher: made by an older
 *           vouch for exact keys only); VOUCH_E_PSI_PARAMS (t, s or account differ from earlier
 *           vouchers); VOUCH_E_PSI_AUTH (the outer layer opened but the
 *           inner one is forged); VOUCH_E_LIMIT; VOUCH_E_NOMEM.  On error
 *           the voucher is not counted. */
VOUCH_API VOUCH_WARN_UNUSED int vouch_psi_server_add(vouch_psi_server *srv, const uint8_t *voucher,
                                                     size_t len, int *status, size_t *index);

typedef struct vouch_psi_summary {
  size_t vouchers;        /* accepted (well-formed) vouchers, replays included */
  size_t opened;          /* distinct openings (real and synthetic) */
  int threshold_crossed;  /* 1 iff the account key was recovered */
  size_t real;            /* when crossed: payloads recovered */
  size_t synthetic;       /* when crossed: openings identified as synthetic */
  size_t multi_opened;    /* distinct openings that opened more than one slot */
  size_t confirmed;       /* after vouch_psi_server_confirm(): real payloads within the radius */
  size_t collisions;      /* after vouch_psi_server_confirm(): real payloads farther (key collisions) */
} vouch_psi_summary;

/*! vouch_psi_server_reveal() :
 *  If more than t distinct vouchers opened, detects the real shares (DHF),
 *  interpolates the account key and decrypts the real payloads.  May be
 *  called again after more vouchers were added.
 * @return : VOUCH_OK (whether or not the threshold was crossed), VOUCH_E_NOMEM. */
VOUCH_API int vouch_psi_server_reveal(vouch_psi_server *srv, vouch_psi_summary *sum);

/*! vouch_psi_server_payload() :
 *  After a reveal that crossed the threshold, the payload of voucher `index`.
 * @return : VOUCH_OK, or VOUCH_E_NOT_FOUND (not a recovered real match). */
VOUCH_API int vouch_psi_server_payload(const vouch_psi_server *srv, size_t index,
                                       vouch_psi_payload *out);

/* What the server knows about one voucher. */
typedef struct vouch_psi_voucher_info {
  unsigned slots_opened;  /* slots that opened (0: not opened; normally 1) */
  int real;               /* 1 after a reveal that recovered its payload */
  int confirmed;          /* after vouch_psi_server_confirm(): 1 within the radius,
                             0 key collision, -1 not checked (or not real) */
  unsigned distance;      /* after confirm: distance to the nearest database hash */
} vouch_psi_voucher_info;

/*! vouch_psi_server_info() : what the server knows about voucher `index`.
 * @return : VOUCH_OK, or VOUCH_E_NOT_FOUND (no such voucher). */
VOUCH_API int vouch_psi_server_info(const vouch_psi_server *srv, size_t index,
                                    vouch_psi_voucher_info *out);

/*! vouch_psi_server_confirm() :
 *  The post-reveal check (docs/protocol.md section 7): after a reveal that
 *  crossed the threshold, compares every recovered payload's hash with the
 *  `n` database hashes (`hash_len` bytes each, back to back, of the payload's
 *  algorithm): within `radius` bits of one, it is confirmed; otherwise it
 *  is a key collision.  Updates sum->confirmed and sum->collisions (sum may
 *  be NULL).  Linear in n per payload.
 * @return : VOUCH_OK, VOUCH_E_INVALID. */
VOUCH_API int vouch_psi_server_confirm(vouch_psi_server *srv, const uint8_t *hashes,
                                       size_t hash_len, size_t n, unsigned radius,
                                       vouch_psi_summary *sum);

#ifdef __cplusplus
}
#endif
#endif /* VOUCH_PSI_H */
