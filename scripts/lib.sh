# SPDX-License-Identifier: GPL-2.0
# Shared settings and helpers for the harness scripts (sourced, not run).

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
BUILD=$TOP/build

# The base: Debian's linux-source-6.12, one pinned version, checked by sha256.
BASE_PKG=linux-source-6.12
BASE_VERSION=${HVO_BASE_VERSION:-6.12.117-1~deb12u1}
BASE_TARBALL=/usr/src/linux-source-6.12.tar.xz
BASE_SHA256=585a4a074597aefa2b1a68ada83a3184ba351c127544dea80618bbcceaa3961f
BASE_SRC=$BUILD/anchor/linux

# Debian packages the harness needs on the host.
HOST_PKGS="build-essential flex bison bc libelf-dev libssl-dev pahole ccache
	qemu-system-x86 busybox-static bpftrace libhugetlbfs-bin libhugetlbfs-dev
	rsync cpio kmod
	python3 git xz-utils"

# kernel_src KERNEL and kernel_obj KERNEL CONFIG: where a kernel's source and
# objects live.  ours: build/linux (the base plus patches/); anchor:
# build/anchor/linux (the pristine base, unpacked there by base.sh).  Each
# object tree sits two levels below its source's parent, so compile commands
# name the same relative paths (../../linux/...) for both kernels and ccache
# shares every object whose sources are the same.  OBJ_ROOT overrides the
# object trees' parent (tests), SRC_OURS our source (series-build.sh).
kernel_src() {
	case "$1" in
	ours) echo "${SRC_OURS:-$BUILD/linux}" ;;
	anchor) echo "$BASE_SRC" ;;
	*) return 1 ;;
	esac
}
kernel_obj() {
	case "$1" in
	ours) echo "${OBJ_ROOT:-$BUILD/obj}/ours-$2" ;;
	anchor) echo "${OBJ_ROOT:-$BUILD/anchor/obj}/anchor-$2" ;;
	*) return 1 ;;
	esac
}

die() {
	printf '%s: error: %s\n' "${0##*/}" "$*" >&2
	exit 1
}

# The project's path goes on the kernel command line and into QEMU options:
# refuse what they cannot carry.
check_path() {
	case "$1" in
	*[[:space:],\"\'\\]*) die "the path '$1' has a blank, comma, quote or backslash; clone the project elsewhere" ;;
	esac
}

note() {
	printf '==> %s\n' "$*" >&2
}

# Elapsed time helper: phase NAME CMD...; prints how long the command took.
phase() {
	local name=$1 start rc
	shift
	start=$(date +%s)
	"$@"
	rc=$?
	printf '==> phase %-24s %4ds (exit %d)\n' "$name" $(($(date +%s) - start)) "$rc" >&2
	return $rc
}

check_path "$TOP"
