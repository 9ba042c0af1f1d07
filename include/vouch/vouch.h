/* vouch/vouch.h -- umbrella header for libvouch. */
#ifndef VOUCH_VOUCH_H
#define VOUCH_VOUCH_H
#include "common.h"
#include "errors.h"
#include "image.h"
#include "hash.h"
#include "video.h"
#include "merkle.h"
#include "index.h"
#include "psi.h"
#include "audit.h"
#include "eval.h"
#include "attack.h"
#include "classify.h"
#include "bank.h"
#include "bank_config.h"
#include "follow.h"
#include "exchange.h"
#include "review.h"
#endif
