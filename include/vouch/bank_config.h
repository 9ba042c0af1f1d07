/*
 * vouch/bank_config.h -- settings kept in the bank database beside the
 * banks (an SQLite bank file of schema version 5, or PostgreSQL migration
 * 8), and what a server needs to cache answers read from it.
 *
 * Signal types.  Each algorithm a bank can hold (a "signal type", as Meta's
 * Hasher-Matcher-Actioner calls pdq, vpdq and video_md5) has an enabled
 * ratio between 0.0 and 1.0, HMA's setting of that name (docs/hma.md):
 * 1.0 unless one was stored.  A ratio of 0.0 switches the type off; any
 * other value leaves it on (HMA keeps the value but draws no coin for
 * partial ratios either).  What "off" means is the server's to honour:
 * vouchd's HMA routes leave an off type out of hashing and refuse lookups
 * and comparisons of it; index builds and the /v1 routes ignore the setting.
 *
 * A file of an older schema opened read-only is read as is: every type
 * reads 1.0 and storing one is refused (VOUCH_E_DB_VERSION).
 */
#ifndef VOUCH_BANK_CONFIG_H
#define VOUCH_BANK_CONFIG_H

#include "bank.h"

#ifdef __cplusplus
extern "C" {
#endif

/*! vouch_bank_signal_type_set() :
 *  Stores the enabled ratio of algorithm `algo` (any a bank can hold:
 *  vouch_bank_algo_from_name()), 0.0 to 1.0 inclusive.
 * @return : VOUCH_OK, VOUCH_E_INVALID (an unknown algorithm, a ratio out of
 *           range or not a number), VOUCH_E_DB_VERSION (an old file opened
 *           read-only), VOUCH_E_DB, VOUCH_E_DB_BUSY. */
VOUCH_API int vouch_bank_signal_type_set(vouch_bank *db, int algo, double enabled_ratio);
/*! vouch_bank_signal_type_get() :
 *  *enabled_ratio receives the stored ratio of `algo`, or 1.0 when none is
 *  stored; *stored (may be NULL) 1 when one is.  A stored value out of range
 *  (the file is untrusted) reads as VOUCH_E_DB_CORRUPT.
 * @return : VOUCH_OK, VOUCH_E_INVALID, VOUCH_E_DB_CORRUPT, VOUCH_E_DB. */
VOUCH_API int vouch_bank_signal_type_get(vouch_bank *db, int algo, double *enabled_ratio, int *stored);
/*! vouch_bank_signal_type_on() : 1 when a type of that ratio is on (> 0), else 0. */
VOUCH_API int vouch_bank_signal_type_on(double enabled_ratio);

/*! vouch_bank_data_version() :
 *  A number that changes whenever a change to the database was committed
 *  (banks, entries, their sources, video frames or signal type settings),
 *  for caching what was read from it.  On PostgreSQL it is the change
 *  counter (vouch_bank_change_seq()).  On SQLite it is the connection's
 *  PRAGMA data_version, which changes when another connection (this
 *  process or another, the sqlite3 shell included) commits, but not for
 *  commits made through this handle: keep a handle that only reads for it.
 *  Only equality of two values from the same handle means anything.
 * @return : VOUCH_OK, VOUCH_E_INVALID, VOUCH_E_DB. */
VOUCH_API int vouch_bank_data_version(vouch_bank *db, int64_t *version);

/* Slots of vouch_bank_enabled_counts()' array: one per VOUCH_ALGO_* value. */
#define VOUCH_BANK_ALGO_SLOTS 16U
/*! vouch_bank_enabled_counts() :
 *  counts[algo] receives how many enabled entries the enabled banks of each
 *  algorithm hold (a video is one entry), for every algo below
 *  VOUCH_BANK_ALGO_SLOTS (0 for the others).  One pass over the entries:
 *  cache it against vouch_bank_data_version().
 * @return : VOUCH_OK, VOUCH_E_INVALID, VOUCH_E_DB. */
VOUCH_API int vouch_bank_enabled_counts(vouch_bank *db, uint64_t counts[VOUCH_BANK_ALGO_SLOTS]);

#ifdef __cplusplus
}
#endif
#endif /* VOUCH_BANK_CONFIG_H */
