#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# kernel.sh KERNEL CONFIG: build a bzImage (riscv64: an Image).
#   KERNEL: ours   (build/linux: the base plus patches/)
#           anchor (build/anchor/linux: the pristine base with its own HVO)
#   CONFIG: normal  (tinyconfig + configs/hvo.config)
#           debug   (normal + configs/debug.config)
#           nohvo   (normal + configs/nohvo.config: HVO configured out)
#           riscv64 (ARCH=riscv tinyconfig + configs/riscv64.config, built
#                    with Debian's riscv64-linux-gnu-gcc: make ports)
# Output in kernel_obj (scripts/lib.sh); ccache keeps rebuilds short.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

kernel=${1:-ours} config=${2:-normal}
src=$(kernel_src "$kernel") || die "unknown KERNEL '$kernel' (ours or anchor)"
# The build's timestamp names the base; an initramfs (riscv64) wants a date.
arch=x86_64 cross= image=arch/x86/boot/bzImage target=bzImage ts=$BASE_VERSION
case "$config" in
normal) frags="$TOP/configs/hvo.config" ;;
debug) frags="$TOP/configs/hvo.config $TOP/configs/debug.config" ;;
nohvo) frags="$TOP/configs/hvo.config $TOP/configs/nohvo.config" ;;
riscv64)
	frags="$TOP/configs/riscv64.config"
	arch=riscv cross=riscv64-linux-gnu- image=arch/riscv/boot/Image target=Image
	ts="1970-01-01 00:00:00 UTC"
	command -v ${cross}gcc >/dev/null || die "no ${cross}gcc (apt-get install gcc-riscv64-linux-gnu)"
	;;
*) die "unknown CONFIG '$config' (normal, debug, nohvo or riscv64)" ;;
esac
[ -f "$src/Makefile" ] || die "no source in ${src#$TOP/} (run: make tree)"

obj=$(kernel_obj "$kernel" "$config")
mkdir -p "$obj"
export CCACHE_DIR=${CCACHE_DIR:-$HOME/.cache/ccache}
export CCACHE_BASEDIR=$TOP
export CCACHE_COMPILERCHECK=content
export CCACHE_SLOPPINESS=time_macros,include_file_mtime,include_file_ctime
ccache -M 20G >/dev/null 2>&1 || true
kmake() {
	make -s -C "$src" O="$obj" ARCH=$arch ${cross:+CROSS_COMPILE=$cross} \
		CC="ccache ${cross}gcc" HOSTCC="ccache gcc" \
		KBUILD_BUILD_TIMESTAMP="$ts" KBUILD_BUILD_USER=hvo \
		KBUILD_BUILD_HOST=hvo "$@"
}

# Config: tinyconfig, then the fragments, then check each requested option.
# Skipped when neither the fragments nor any Kconfig file changed since the
# last time (a stamp in the object tree), so a rebuild relinks nothing new.
make_config() {
	kmake tinyconfig >/dev/null
	"$src/scripts/kconfig/merge_config.sh" -m -O "$obj" "$obj/.config" $frags >"$obj/merge.log" 2>&1 ||
		{ cat "$obj/merge.log" >&2; die "merge_config failed"; }
	kmake olddefconfig >/dev/null
	# Each option as the last fragment that names it wants it.
	local bad=0 line opt val
	while IFS= read -r line; do
		opt=${line%%=*} val=${line#*=}
		if [ "$val" = n ]; then
			grep -q "^$opt=" "$obj/.config" && { echo "  $opt: wanted n" >&2; bad=1; }
		else
			grep -qxF "$line" "$obj/.config" ||
				{ echo "  $opt: wanted $val, got $(grep "^$opt=\|# $opt " "$obj/.config" || echo unset)" >&2; bad=1; }
		fi
	done < <(cat $frags | awk -F= '/^CONFIG_[A-Za-z0-9_]*=/ {
		if (!($1 in last)) order[n++] = $1; last[$1] = $0 }
		END { for (i = 0; i < n; i++) print last[order[i]] }')
	[ $bad = 0 ] || die "some config options did not stick (missing dependencies?)"
}
stamp=$( { cat $frags; cd "$src" && find . -name 'Kconfig*' -type f | LC_ALL=C sort | xargs cat; } | sha256sum | cut -d' ' -f1)
if [ -f "$obj/.config" ] && [ "$(cat "$obj/.hvo-config-stamp" 2>/dev/null)" = "$stamp" ]; then
	note "config of $kernel-$config unchanged"
else
	rm -f "$obj/.hvo-config-stamp"
	make_config
	echo "$stamp" >"$obj/.hvo-config-stamp"
fi

note "building $kernel-$config kernel in ${obj#$TOP/}"
kmake -j"$(nproc)" $target
# The x86 guests build their programs against these headers.
[ $arch != x86_64 ] || kmake headers_install INSTALL_HDR_PATH="$obj/hdr" >/dev/null
note "built ${obj#$TOP/}/$image"
