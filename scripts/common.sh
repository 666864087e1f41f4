# Shared by demo.sh and test.sh: dependencies, toolchain path, meson configure and build.
# Usage: . scripts/common.sh; vn_prepare GROUPS...
vn_root=$(cd "$(dirname "$0")/.." && pwd)
vn_build="${VN_BUILD_DIR:-$vn_root/build}"

vn_prepare()
{
    "$vn_root/scripts/install-deps.sh" "$@"
    # nvcc lives outside the default PATH in the CUDA Toolkit's own installer layout.
    if [ -x /usr/local/cuda/bin/nvcc ]; then
        case ":$PATH:" in *":/usr/local/cuda/bin:"*) ;; *) PATH="$PATH:/usr/local/cuda/bin"; export PATH ;; esac
    fi
    # Where nvcc is, the CUDA backend must build: a toolkit that went missing or broke
    # is then a configure error, not a build that quietly leaves the backend out.
    vn_cuda=auto
    if command -v nvcc >/dev/null 2>&1; then
        vn_cuda=enabled
    fi
    if [ -f "$vn_build/build.ninja" ]; then
        meson setup --reconfigure "$vn_build" "$vn_root" -Dtests=true -Dcuda=$vn_cuda >/dev/null
    else
        meson setup "$vn_build" "$vn_root" -Dtests=true -Dcuda=$vn_cuda
    fi
    ninja -C "$vn_build"
}
