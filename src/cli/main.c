/* `vnative`: the command-line face of libvnative. */
#include "cli/commands.h"

#include <stdio.h>
#include <string.h>

#include "vnative/vnative.h"

static const vn_cli_command commands[] = {
    {"demo", "the main job: train a video and a bag-of-images encoder, probe both, write the report", vn_cmd_demo},
    {"info", "version, backends, devices and linked libraries ([--json])", vn_cmd_info},
    {"probe-video", "a video's exact frame count, keyframes, rotation and colour ([--json])", vn_cmd_probe_video},
    {"frames", "dump a clip of frames from a video to .npy", vn_cmd_frames},
    {"world", "procedural physics clips with temporal labels, and a manifest", vn_cmd_world},
    {"train", "train an encoder with self-supervised objectives, with checkpoints", vn_cmd_train},
    {"probe", "frozen-feature linear and k-NN probes of an encoder on the world's temporal tasks", vn_cmd_probe},
    {"timevec", "the time vector of an encoder: its sign alone, reversal by arithmetic, across tasks", vn_cmd_timevec},
    {"encode", "embed a video, folder or manifest with an encoder: one row per clip or window, to .npy", vn_cmd_encode},
    {"retrieve", "exact top-k search of encoded clips by a row, a .npy or a video; reversed along t", vn_cmd_retrieve},
    {"bench", "time a training step, encode, the world generator and the loader; --profile: per op", vn_cmd_bench},
    {"report", "results and training logs into report.json, report.md and one self-contained report.html", vn_cmd_report},
};

#define N_COMMANDS (sizeof commands / sizeof commands[0])

int vn_cli_fail(const char *cmd, const char *what)
{
    fprintf(stderr, "vnative %s: %s\n", cmd, what && *what ? what : "failed");
    return 1;
}

static void usage(FILE *f)
{
    fprintf(f, "usage: vnative COMMAND [options]\n\ncommands:\n");
    for (size_t i = 0; i < N_COMMANDS; i++)
        fprintf(f, "  %-14s %s\n", commands[i].name, commands[i].summary);
    fprintf(f, "\nvnative COMMAND --help shows a command's options. "
               "VN_BACKEND=cpu|cuda|reference picks the backend; VN_LOG_LEVEL=info shows more.\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        usage(stdout);
        return 0;
    }
    if (!strcmp(argv[1], "--version")) {
        printf("vnative %s\n", vn_version());
        return 0;
    }
    for (size_t i = 0; i < N_COMMANDS; i++)
        if (!strcmp(argv[1], commands[i].name))
            return commands[i].run(argc - 1, argv + 1);
    fprintf(stderr, "vnative: unknown command '%s'\n\n", argv[1]);
    usage(stderr);
    return 2;
}
