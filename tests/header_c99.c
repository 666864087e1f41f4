/* The public headers compile as strict C99 with every warning an error (see meson.build). */
#include <vnative/vnative.h>
#include <stdio.h>

int main(void)
{
    vn_context_options o = VN_CONTEXT_OPTIONS_INIT;
    vn_clip_options c = VN_CLIP_OPTIONS_INIT;
    vn_transform_options t = VN_TRANSFORM_OPTIONS_INIT;
    vn_video_info vi = VN_VIDEO_INFO_INIT;
    vn_video_open_options vo = VN_VIDEO_OPEN_OPTIONS_INIT;
    vn_video_writer_options wo = VN_VIDEO_WRITER_OPTIONS_INIT;
    vn_loader_options lo = VN_LOADER_OPTIONS_INIT;
    vn_loader_stats ls = VN_LOADER_STATS_INIT;
    vn_device_info di = VN_DEVICE_INFO_INIT;
    (void)c, (void)t, (void)vi, (void)vo, (void)wo, (void)lo, (void)ls, (void)di;
    printf("%s %u %d\n", vn_version(), vn_version_number(), o.version);
    return vn_version_number() == VN_VERSION_NUMBER ? 0 : 1;
}
