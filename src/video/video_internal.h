/* src/video/video_internal.h -- pieces shared by the video module's files. */
#ifndef VOUCH_VIDEO_INTERNAL_H
#define VOUCH_VIDEO_INTERNAL_H
#include "vouch/video.h"
#include "common/internal.h"

/* The frame rate vPDQ's timestamps and frame selection use. */
VOUCH_HIDDEN double vouch__video_frame_rate(const vouch_video *v);
#endif
