/* The `vnative` command's subcommands. Each returns the process exit code. */
#ifndef VN_CLI_COMMANDS_H
#define VN_CLI_COMMANDS_H

typedef struct vn_cli_command {
    const char *name;
    const char *summary;
    int (*run)(int argc, char **argv); /* argv[0] is the subcommand name */
} vn_cli_command;

int vn_cmd_info(int argc, char **argv);
int vn_cmd_probe_video(int argc, char **argv);
int vn_cmd_frames(int argc, char **argv);
int vn_cmd_world(int argc, char **argv);
int vn_cmd_train(int argc, char **argv);
int vn_cmd_probe(int argc, char **argv);
int vn_cmd_timevec(int argc, char **argv);
int vn_cmd_demo(int argc, char **argv);
int vn_cmd_report(int argc, char **argv);
int vn_cmd_encode(int argc, char **argv);
int vn_cmd_retrieve(int argc, char **argv);
int vn_cmd_bench(int argc, char **argv);

/* Print "vnative NAME: <message>" for a failed call and return exit code 1. */
int vn_cli_fail(const char *cmd, const char *what);

#endif
