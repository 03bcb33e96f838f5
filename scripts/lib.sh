# SPDX-License-Identifier: GPL-2.0
# Shared settings and helpers for the harness scripts (sourced, not run).

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=$TOP/build
# Kernel build directories, one per KERNEL-CONFIG (overridable for tests).
OBJ_ROOT=${OBJ_ROOT:-$BUILD/obj}

# The base: Debian's linux-source-6.12, one pinned version, checked by sha256.
BASE_PKG=linux-source-6.12
BASE_VERSION=${HVO_BASE_VERSION:-6.12.117-1~deb12u1}
BASE_TARBALL=/usr/src/linux-source-6.12.tar.xz
BASE_SHA256=585a4a074597aefa2b1a68ada83a3184ba351c127544dea80618bbcceaa3961f
BASE_SRC=$BUILD/src/linux-source-6.12

# Debian packages the harness needs on the host.
HOST_PKGS="build-essential flex bison bc libelf-dev libssl-dev pahole ccache
	qemu-system-x86 busybox-static bpftrace libhugetlbfs-bin rsync cpio kmod
	python3 git xz-utils"

die() {
	printf '%s: error: %s\n' "${0##*/}" "$*" >&2
	exit 1
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
