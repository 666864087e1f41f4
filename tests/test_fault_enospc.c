/*
 * A checkpoint saved onto a filesystem that is really full: a 1 MiB tmpfs, mounted in a
 * mount namespace of this process only (so nothing outlives the test, whatever happens),
 * filled up with a filler file after a first checkpoint. The injected failures of
 * test_fault_injection.c show every operation is handled; this shows the kernel's own
 * ENOSPC arrives where they assume it does.
 */
#include "fault_enospc.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "checkpoint_fixtures.h"

static char mnt[600];

/* Bytes written before the filesystem refused more. */
static long fill(const char *path)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ck_assert_int_ge(fd, 0);
    static const char block[4096];
    long total = 0;
    for (;;) {
        ssize_t k = write(fd, block, sizeof block);
        if (k <= 0) {
            ck_assert_int_eq(errno, ENOSPC);
            break;
        }
        total += k;
    }
    close(fd);
    return total;
}

static int entries(const char *dir)
{
    DIR *d = opendir(dir);
    ck_assert_ptr_nonnull(d);
    int n = 0;
    for (struct dirent *e; (e = readdir(d));)
        n += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
    closedir(d);
    return n;
}

START_TEST(save_onto_full_tmpfs)
{
    char dir[700], filler[700], model[800], state[800];
    fmt_into(dir, sizeof dir, "%s/ckpt", mnt);
    fmt_into(filler, sizeof filler, "%s/filler", mnt);
    fmt_into(model, sizeof model, "%s/model.safetensors", dir);
    fmt_into(state, sizeof state, "%s/trainer.safetensors", dir);
    vn_context *ctx = cpu_ctx();
    vn_encoder_config c = vn_test_tiny_config(VN_ENCODER_VIDEO, 3);
    vn_train_options o = vn_test_tiny_train_options("aot", "world:aot", 2);
    vn_trainer *tr;
    VN_ASSERT_OK(vn_trainer_create(&tr, ctx, &c, &o));
    VN_ASSERT_OK(vn_trainer_step(tr, NULL));
    VN_ASSERT_OK(vn_trainer_save(tr, dir));
    size_t nm, ns;
    unsigned char *m0 = slurp(model, &nm), *s0 = slurp(state, &ns);
    long filled = fill(filler);
    VN_ASSERT_OK(vn_trainer_step(tr, NULL));

    vn_clear_error();
    vn_status st = vn_trainer_save(tr, dir);
    printf("tmpfs: checkpoint files of %zu + %zu bytes, %ld filler bytes; the save on the full disk: %s: %s\n", nm,
           ns, filled, vn_status_str(st), vn_last_error());
    ck_assert_int_eq(st, VN_ERR_IO);
    ck_assert_msg(strstr(vn_last_error(), "No space left on device") && strstr(vn_last_error(), dir), "%s",
                  vn_last_error());
    ck_assert_msg(entries(dir) == 2, "the failed save left a temp file in %s", dir);
    size_t n;
    unsigned char *b = slurp(model, &n);
    ck_assert_msg(n == nm && !memcmp(b, m0, n), "the failed save changed model.safetensors");
    free(b);
    b = slurp(state, &n);
    ck_assert_msg(n == ns && !memcmp(b, s0, n), "the failed save changed trainer.safetensors");
    free(b);

    /* with room again, the same trainer saves, and the checkpoint resumes at step 2 */
    ck_assert_int_eq(unlink(filler), 0);
    VN_ASSERT_OK(vn_trainer_save(tr, dir));
    vn_trainer *back;
    VN_ASSERT_OK(vn_trainer_create(&back, ctx, &c, &o));
    VN_ASSERT_OK(vn_trainer_resume(back, dir));
    int64_t step;
    VN_ASSERT_OK(vn_trainer_get_step(back, &step));
    ck_assert_int_eq(step, 2);
    free(m0);
    free(s0);
    vn_trainer_destroy(back);
    vn_trainer_destroy(tr);
    vn_context_destroy(ctx);
}
END_TEST

int vn_fault_enospc_main(void)
{
    const char *name = "fault_injection_tmpfs";
    if (geteuid() != 0)
        return vn_test_skip(name, "mounting a tmpfs needs root");
    /* Our own mount namespace, private: the mount vanishes with this process. */
    if (unshare(CLONE_NEWNS) != 0) {
        char why[160];
        fmt_into(why, sizeof why, "unshare(CLONE_NEWNS) refused: %s", strerror(errno));
        return vn_test_skip(name, why);
    }
    if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0)
        return vn_test_skip(name, "cannot make the mount namespace private");
    fmt_into(mnt, sizeof mnt, "%s/enospc_tmpfs", vn_test_tmpdir());
    mkdir(mnt, 0755);
    if (mount("tmpfs", mnt, "tmpfs", 0, "size=1m") != 0) {
        char why[160];
        fmt_into(why, sizeof why, "mount -t tmpfs refused: %s", strerror(errno));
        return vn_test_skip(name, why);
    }
    Suite *s = suite_create(name);
    TCase *tc = tcase_create("full_disk");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, save_onto_full_tmpfs);
    suite_add_tcase(s, tc);
    int rc = vn_test_run(s);
    umount2(mnt, MNT_DETACH);
    return rc;
}
