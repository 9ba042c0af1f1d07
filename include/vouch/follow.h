/*
 * vouch/follow.h -- an index kept fresh on a changing PostgreSQL bank
 * database without rebuilding it: the last full index (the snapshot) plus
 * an in-memory delta of the entries changed since.
 *
 * Every transaction that changes entries gets a change number in commit
 * order (the database's change counter, vouch_bank_change_seq()), and each
 * entry it inserts or updates, or whose sources it changes, carries it.  A
 * follower reads the entries whose number is above what it has seen, in one
 * consistent read, keeps the newest version of each (a map by entry id),
 * and derives from the snapshot an index that searches the snapshot minus
 * the changed entries plus their current versions (vouch_index_derive()):
 * exactly what a rebuild at that change number would answer.  Changes a
 * delta of entries cannot express (a bank created, changed or deleted, an
 * entry deleted, video frames) need a new snapshot; so does a delta past the
 * follower's bound, to keep lookups fast.  Snapshots are built by one
 * replica at a time (vouch_bank_build_lock()) and published under their
 * Merkle root so the others, and new replicas, fetch them instead of
 * building (vouch_bank_snapshot_*).
 *
 * Limits: PostgreSQL only (VOUCH_E_UNSUPPORTED on an SQLite bank file,
 * whose single vouchd rebuilds instead); the index of all enabled banks, or
 * of those of one algorithm (vouch_follow_new_algo(), one follower per
 * index of a database whose banks hold several), not a bank selection; an
 * entry disabled until a time that has passed comes back at the next
 * snapshot, not before.
 */
#ifndef VOUCH_FOLLOW_H
#define VOUCH_FOLLOW_H

#include "common.h"
#include "errors.h"
#include "bank.h"
#include "index.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct vouch_follow vouch_follow;

/* Bits of vouch_follow_poll()'s *status. */
#define VOUCH_FOLLOW_CHANGED 1U       /* the delta changed: vouch_follow_index() gives a newer index */
#define VOUCH_FOLLOW_NEED_SNAPSHOT 2U /* a change the delta cannot express: only a newer snapshot is current */
#define VOUCH_FOLLOW_DELTA_FULL 4U    /* the delta passed its bound: build a snapshot (answers stay exact) */

/*! vouch_follow_new() : an empty follower whose delta bound is `max_delta`
 *  entries (0 = VOUCH_FOLLOW_DEFAULT_MAX). */
#define VOUCH_FOLLOW_DEFAULT_MAX 100000U
/* An entry disabled until a time (vouch_bank_entry_disable_until()) comes
 * back at the first poll after that time: the poll also reads the entries
 * whose time passed since the last poll (the first poll after the first
 * snapshot: every entry whose time has passed).  Such a record outlives a
 * new snapshot by VOUCH_FOLLOW_EXPIRY_KEEP seconds (the snapshot may have
 * been built before the time passed); a snapshot installed longer than that
 * after its build may miss such an entry until the next snapshot. */
#define VOUCH_FOLLOW_EXPIRY_KEEP 3600
VOUCH_API int vouch_follow_new(vouch_follow **out, size_t max_delta);
/*! vouch_follow_new_algo() : a follower of the index of the enabled banks
 *  of bank algorithm `algo` (vouch_bank_build_index_algo()): changed entries
 *  of banks of other algorithms are ignored (VOUCH_ALGO_NONE: none is, as
 *  vouch_follow_new()), and only changes to its own banks (a bank of its
 *  algorithm created, changed or removed, an entry of one deleted; video
 *  frames for vpdq) ask it for a new snapshot.
 * @return : VOUCH_OK, VOUCH_E_INVALID (not a bank algorithm), VOUCH_E_NOMEM. */
VOUCH_API int vouch_follow_new_algo(vouch_follow **out, size_t max_delta, int algo);
VOUCH_API void vouch_follow_free(vouch_follow *f); /* NULL is a no-op */

/*! vouch_follow_set_snapshot() :
 *  Installs the snapshot `snap` holding every change up to `seq` (as
 *  vouch_bank_build_index_seq() or vouch_bank_snapshot_latest() report it);
 *  the follower takes over the caller's reference.  Delta entries at or below
 *  `seq` are dropped (the snapshot has them).  A snapshot older than the
 *  installed one is refused (VOUCH_E_INVALID; the caller still owns it).
 * @return : VOUCH_OK, VOUCH_E_INVALID. */
VOUCH_API int vouch_follow_set_snapshot(vouch_follow *f, vouch_index *snap, int64_t seq);

/*! vouch_follow_poll() :
 *  Reads the changes committed since the last poll (one REPEATABLE READ
 *  transaction on `db`) into the delta; *status receives VOUCH_FOLLOW_* bits.
 *  Needs a snapshot (VOUCH_E_INVALID before one).
 * @return : VOUCH_OK, VOUCH_E_UNSUPPORTED (SQLite), VOUCH_E_DB, VOUCH_E_NOMEM. */
VOUCH_API int vouch_follow_poll(vouch_follow *f, vouch_bank *db, unsigned *status);

/*! vouch_follow_index() :
 *  A new handle answering for the snapshot plus the delta (free it with
 *  vouch_index_free(); it stays valid after later polls and snapshots).
 * @return : VOUCH_OK, VOUCH_E_INVALID (no snapshot), VOUCH_E_NOMEM. */
VOUCH_API int vouch_follow_index(vouch_follow *f, vouch_index **out);

/*! vouch_follow_seq() : the change number the follower is current to (the
 *  snapshot's, or the last poll's when it could apply every change); -1
 *  before a snapshot.  vouch_follow_snapshot_seq() : the snapshot's.
 *  vouch_follow_delta_entries() : entries in the delta. */
VOUCH_API int64_t vouch_follow_seq(const vouch_follow *f);
VOUCH_API int64_t vouch_follow_snapshot_seq(const vouch_follow *f);
VOUCH_API size_t vouch_follow_delta_entries(const vouch_follow *f);

/* ------------------------------------------------------- published snapshots
 *
 * A builder publishes each snapshot it builds under its Merkle root: a row
 * (root, change number, size) in the database and, unless the deployment
 * shares a directory instead, its bytes in chunks of
 * VOUCH_SNAPSHOT_CHUNK_BYTES (ordinary rows, not large objects).  A
 * replica opening a fetched file checks that its root is the one it asked
 * for.  Retention: the newest `keep` snapshots stay (vouchd keeps
 * VOUCH_SNAPSHOT_KEEP); an older one is deleted once the snapshot published
 * after it is VOUCH_SNAPSHOT_MIN_AGE seconds old, so that a replica that
 * began fetching it while it was the newest can finish. */
#define VOUCH_SNAPSHOT_CHUNK_BYTES (1U << 20)
#define VOUCH_SNAPSHOT_KEEP 2U
#define VOUCH_SNAPSHOT_MIN_AGE 300U

/*! vouch_bank_snapshot_publish() :
 *  Records the index file at `path` (root read from the file) as the snapshot
 *  of change `seq`; with `store_bytes`, also its bytes.  Keeps the newest
 *  `keep` (at least 1) snapshots and those superseded less than
 *  VOUCH_SNAPSHOT_MIN_AGE seconds ago (vouch_bank_snapshot_prune()).
 * @return : VOUCH_OK, VOUCH_E_UNSUPPORTED, VOUCH_E_IO, VOUCH_E_DB_CORRUPT, VOUCH_E_DB. */
VOUCH_API int vouch_bank_snapshot_publish(vouch_bank *db, const char *path, int64_t seq, int store_bytes,
                                          unsigned keep);

/*! vouch_bank_snapshot_publish_algo() / _latest_algo() / _fetch_algo() :
 *  The same for the snapshots of one algorithm's index
 *  (vouch_bank_build_index_algo()), kept apart from the others' (the
 *  algorithm is part of a snapshot's key: two indexes can share a root, two
 *  empty ones say); each algorithm keeps its own newest `keep`.  The
 *  functions without _algo are those of the index of all enabled banks
 *  (VOUCH_ALGO_NONE). */
VOUCH_API int vouch_bank_snapshot_publish_algo(vouch_bank *db, int algo, const char *path, int64_t seq,
                                               int store_bytes, unsigned keep);
VOUCH_API int vouch_bank_snapshot_latest_algo(vouch_bank *db, int algo, uint8_t root[VOUCH_MERKLE_HASH_BYTES],
                                              int64_t *seq, int64_t *bytes, int *stored);
VOUCH_API int vouch_bank_snapshot_fetch_algo(vouch_bank *db, int algo, const uint8_t root[VOUCH_MERKLE_HASH_BYTES],
                                             const char *path);

/*! vouch_bank_snapshot_fetch_open_algo() :
 *  As vouch_bank_snapshot_fetch_algo(), and opens the fetched file with `cfg`
 *  (vouch_index_open(); NULL = defaults) into *out: the open's validation
 *  (checksum first) and a comparison with `root` replace the streaming check,
 *  so a joining replica reads the bytes once before serving them.  The file
 *  gets the name `path` only once they passed; on any failure no file is left
 *  and *out is NULL.
 * @return : as vouch_bank_snapshot_fetch(), and VOUCH_E_NOMEM. */
VOUCH_API int vouch_bank_snapshot_fetch_open_algo(vouch_bank *db, int algo,
                                                  const uint8_t root[VOUCH_MERKLE_HASH_BYTES], const char *path,
                                                  const vouch_index_config *cfg, vouch_index **out);

/*! vouch_bank_snapshot_prune() :
 *  Deletes the published snapshots (rows and chunks) other than the newest
 *  `keep` (at least 1) of each algorithm (vouch_bank_snapshot_publish_algo())
 *  whose successor was published `min_age` or more
 *  seconds ago; *removed (may be NULL) receives how many.
 * @return : VOUCH_OK, VOUCH_E_UNSUPPORTED (SQLite), VOUCH_E_DB. */
VOUCH_API int vouch_bank_snapshot_prune(vouch_bank *db, unsigned keep, unsigned min_age, size_t *removed);

/*! vouch_snapshot_dir_prune() :
 *  The same rule for a shared snapshot directory (vouchd --snapshot-dir):
 *  deletes the files DIR/<root in hex>.vidx (and, apart, those of each
 *  algorithm, DIR/ALGO-<root in hex>.vidx) other than the newest `keep`
 *  (at least 1; by modification time) whose successor was written `min_age`
 *  or more seconds ago.  Other files are never touched.  A replica serving
 *  a deleted file keeps its mapping.
 * @return : VOUCH_OK, VOUCH_E_INVALID, VOUCH_E_IO, VOUCH_E_NOMEM. */
VOUCH_API int vouch_snapshot_dir_prune(const char *dir, unsigned keep, unsigned min_age, size_t *removed);

/*! vouch_bank_snapshot_latest() :
 *  The newest published snapshot: root, change number, size and whether its
 *  bytes are stored.  VOUCH_E_NOT_FOUND if none.
 * @return : VOUCH_OK, VOUCH_E_NOT_FOUND, VOUCH_E_UNSUPPORTED, VOUCH_E_DB. */
VOUCH_API int vouch_bank_snapshot_latest(vouch_bank *db, uint8_t root[VOUCH_MERKLE_HASH_BYTES], int64_t *seq,
                                         int64_t *bytes, int *stored);

/*! vouch_bank_snapshot_fetch() :
 *  Writes the stored bytes of snapshot `root` to `path` (temp file, fsync,
 *  rename), checking in the same pass (vouch_index_stream_*) that they are a
 *  whole index file (checksum) whose header records the root `root`;
 *  vouch_index_open() validates the rest when the file is opened.
 * @return : VOUCH_OK, VOUCH_E_NOT_FOUND, VOUCH_E_DB_CORRUPT (root differs,
 *           chunks missing), VOUCH_E_IO, VOUCH_E_UNSUPPORTED, VOUCH_E_DB. */
VOUCH_API int vouch_bank_snapshot_fetch(vouch_bank *db, const uint8_t root[VOUCH_MERKLE_HASH_BYTES],
                                        const char *path);

#ifdef __cplusplus
}
#endif
#endif /* VOUCH_FOLLOW_H */
