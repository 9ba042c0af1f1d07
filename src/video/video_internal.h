/* src/video/video_internal.h -- pieces shared by the video module's files. */
#ifndef VOUCH_VIDEO_INTERNAL_H
#define VOUCH_VIDEO_INTERNAL_H
#include "vouch/video.h"
#include "common/internal.h"

/* The frame rate vPDQ's timestamps and frame selection use. */
VOUCH_HIDDEN double vouch__video_frame_rate(const vouch_video *v);
/* Appends a frame to h, growing it (up to VOUCH_VPDQ_MAX_FRAMES):
 * VOUCH_OK, VOUCH_E_NOMEM, VOUCH_E_LIMIT (vpdq.c; also used by the eval
 * module's video edits). */
VOUCH_HIDDEN int vouch__vpdq_push(vouch_vpdq *h, const vouch_vpdq_frame *f);
#endif
