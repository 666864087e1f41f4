/*
 * cuda_emu, the "emulator" and "emulator_misuse" case sets: the emulator itself, with the
 * small kernels of selftest.cu. Shared helpers: emu_test.h.
 */
#include "emu_test.h"

#include <signal.h>
#include <sys/resource.h>

#include "selftest.h"

using namespace emu_test;

/* ==== the emulator itself ==================================================================== */

START_TEST(test_emu_warp_ops)
{
    g_case = "emulator warp ops";
    Dev<int> out(64 * EMU_ST_SHUFFLE_RESULTS);
    CU(emu_st_shuffles(out));
    for (int t = 0; t < 64; t++) {
        const int lane = t % 32, base = 1000 * (t / 32);
        const int *o = out.p() + t * EMU_ST_SHUFFLE_RESULTS;
        unsigned ballot = 0;
        for (int l = 0; l < 32; l += 3)
            ballot |= 1u << l;
        const int want[EMU_ST_SHUFFLE_RESULTS] = {
            base + (lane ^ 1),
            base + 31 - lane,
            base + (lane & ~7) + 3,
            base + (lane >= 3 ? lane - 3 : lane),
            base + ((lane % 16) + 5 < 16 ? lane + 5 : lane),
            base + ((lane ^ 9) < (lane & ~7) + 8 ? lane ^ 9 : lane),
            (int)ballot,
            1,
            1,
        };
        for (int k = 0; k < EMU_ST_SHUFFLE_RESULTS; k++)
            ck_assert_msg(o[k] == want[k], "thread %d, result %d: %d, expected %d", t, k, o[k], want[k]);
    }
    Dev<int> votes(9);
    CU(emu_st_block_votes(votes));
    const int want[9] = {20, 0, 1, 96, 1, 1, 0, 0, 0};
    for (int k = 0; k < 9; k++)
        ck_assert_msg(votes.p()[k] == want[k], "block vote %d: %d, expected %d", k, votes.p()[k], want[k]);
    printf("  %-44s %-44s ok\n", g_case.c_str(), "shfl/up/down/xor (widths), ballot/any/all, votes");
}
END_TEST

START_TEST(test_emu_memory)
{
    g_case = "emulator memory";
    Rng r(3);
    const V x = rnd(r, 200);
    Dev<float> dx(x), out(200);
    CU(emu_st_dynamic_shared(out, dx, 200));
    V want(x.rbegin(), x.rend());
    expect_same("dynamic shared memory", out.get(), want);
    Dev<uint32_t> poison(128);
    CU(emu_st_shared_poison(poison));
    expect_same("shared memory is garbage (0xff) at block start", poison.get(), std::vector<uint32_t>(128, 0xffffffffu));
    Dev<int> count(std::vector<int>{0});
    Dev<float> sum(V{0.0f});
    CU(emu_st_atomics(count, sum));
    ck_assert_int_eq(count.p()[0], 384);
    ck_assert_float_eq(sum.p()[0], 192.0f);
    Dev<int> exits(std::vector<int>(128, -1));
    CU(emu_st_early_exit(exits));
    for (int t = 0; t < 128; t++)
        ck_assert_int_eq(exits.p()[t], t < 40 ? t : -1);
    /* launch configurations: errors as cudaGetLastError reports them */
    ck_assert_int_eq(emu_st_config(1, 1, 1024, 1, 0), cudaSuccess);
    ck_assert_int_eq(emu_st_config(0, 1, 32, 1, 0), cudaErrorInvalidConfiguration);
    ck_assert_int_eq(emu_st_config(1, 65536, 32, 1, 0), cudaErrorInvalidConfiguration);
    ck_assert_int_eq(emu_st_config(1, 1, 1025, 1, 0), cudaErrorInvalidConfiguration);
    ck_assert_int_eq(emu_st_config(1, 1, 64, 32, 0), cudaErrorInvalidConfiguration);
    ck_assert_int_eq(emu_st_config(1, 1, 32, 1, 48 * 1024 + 1), cudaErrorInvalidValue);
    /* grid caps and block order leave a grid-stride loop's result alone */
    const V y = rnd(r, 1000);
    Dev<float> dy(y);
    for (unsigned cap : {0u, 1u, 3u})
        for (bool rev : {false, true}) {
            emu::set_options({cap, rev});
            std::unique_ptr<Dev<float>> o(nan_buf(1000));
            CU(emu_st_copy(*o, dy, 1000, 7));
            expect_same("grid-stride copy under caps and reversal", o->get(), y);
        }
    emu::set_options(emu::Options());
    printf("  %-44s %-44s ok\n", g_case.c_str(), "dynamic/static shared, atomics, exits, configs");
}
END_TEST

/* Each misuse must abort the process (Check reports SIGABRT as the expected signal),
 * without a core file. */
static void expect_death(const char *what)
{
    const struct rlimit none = {0, 0};
    setrlimit(RLIMIT_CORE, &none);
    printf("  %-44s %-44s (the emulator must stop it)\n", "emulator misuse", what);
    fflush(stdout);
}
START_TEST(test_emu_divergent_barrier)
{
    expect_death("divergent __syncthreads");
    emu_st_divergent_barrier();
}
END_TEST
START_TEST(test_emu_shuffle_after_exit)
{
    expect_death("shuffle naming an exited lane");
    emu_st_shuffle_after_exit();
}
END_TEST
START_TEST(test_emu_ragged_warp)
{
    expect_death("full-mask shuffle in a 16-thread warp");
    emu_st_ragged_warp_shuffle();
}
END_TEST
START_TEST(test_emu_partial_mask)
{
    expect_death("partial shuffle mask (unsupported)");
    emu_st_partial_mask();
}
END_TEST
START_TEST(test_emu_launch_bounds)
{
    expect_death("block larger than __launch_bounds__");
    emu_st_launch_bounds();
}
END_TEST
START_TEST(test_emu_too_much_shared)
{
    expect_death("52 KiB of static shared memory");
    emu_st_too_much_shared();
}
END_TEST
START_TEST(test_emu_deadlock)
{
    expect_death("deadlock (shuffle vs __syncthreads), 2 s");
    emu::Options o;
    o.deadlock_seconds = 2;
    emu::set_options(o);
    emu_st_deadlock();
}
END_TEST
/* A kernel reading one element past its buffer hits the guard page. */
START_TEST(test_emu_overrun)
{
    expect_death("read one element past a buffer (SIGSEGV)");
    Dev<float> x(V(1000, 1.0f)), out(1001);
    emu_st_copy(out, x, 1001, 2);
}

std::vector<const TTest *> emu_test::tests_emulator()
{
    return {test_emu_warp_ops, test_emu_memory};
}

std::vector<emu_test::SignalTest> emu_test::tests_emulator_misuse()
{
    return {
        {test_emu_divergent_barrier, SIGABRT}, {test_emu_shuffle_after_exit, SIGABRT},
        {test_emu_ragged_warp, SIGABRT},       {test_emu_partial_mask, SIGABRT},
        {test_emu_launch_bounds, SIGABRT},     {test_emu_too_much_shared, SIGABRT},
        {test_emu_deadlock, SIGABRT},          {test_emu_overrun, SIGSEGV},
    };
}
