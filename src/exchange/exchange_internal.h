/* src/exchange/exchange_internal.h -- what the exchange module's files share. */
#ifndef VOUCH_EXCHANGE_INTERNAL_H
#define VOUCH_EXCHANGE_INTERNAL_H
#include "vouch/exchange.h"
#include "common/internal.h"

/* t += s, count by count */
VOUCH_HIDDEN void vouch__import_stats_add(vouch_import_stats *t, const vouch_import_stats *s);
/* vouch_exchange_sync() of a VOUCH_EXCHANGE_FILE exchange (file.c); the
 * options are checked and *st cleared by the caller. */
VOUCH_HIDDEN int vouch__exchange_sync_file(vouch_bank *db, const char *name, const vouch_exchange_opts *o,
                                           vouch_exchange_stats *st);
#endif
