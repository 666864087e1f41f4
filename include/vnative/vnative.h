/** @file
 * vnative.h: the umbrella header of libvnative.
 *
 * libvnative learns video-native self-supervised representations and measures,
 * with temporal probes, whether they understand time. Include this header, link
 * with `pkg-config --cflags --libs vnative`.
 *
 * Layouts used across the API: clips are float32 NCTHW or uint8 NTHWC, row-major.
 * A caller's buffer is never kept after a call returns unless the name says so.
 */
#ifndef VNATIVE_H
#define VNATIVE_H

#include "vnative/common.h"
#include "vnative/context.h"
#include "vnative/tensor.h"
#include "vnative/video.h"
#include "vnative/loader.h"
#include "vnative/world.h"
#include "vnative/encoder.h"
#include "vnative/train.h"
#include "vnative/probe.h"
#include "vnative/timevec.h"
#include "vnative/index.h"

#endif
