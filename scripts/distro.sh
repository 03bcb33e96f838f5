#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# make distro: build every object the series changes with the configuration
# Debian ships (linux-config-6.12: config.amd64_none_amd64), with W=1 and
# sparse (C=2), HVO on and off (CONFIG_HUGETLB_PAGE_OPTIMIZE_VMEMMAP), for
# into build/distro/ours-{on,off}, and for the pristine base (the anchor's
# source: its option is a def_bool, on) into build/distro/base.
#
# A warning counts against the series when our build gives it more often
# than the base's build of Debian's config does, file and message compared
# without line numbers: a warning on a line the series added, or on one of
# the base's own lines that the series made warn.  The base's own warnings
# are counted and shown apart.  Fails on a build error or such a warning;
# prints how long it took.  Not part of make check: see the README.
#
#   DISTRO_CONFIG=path  another config (.xz or plain) instead of Debian's
set -euo pipefail
. "$(dirname "$0")/lib.sh"
# gcc's and sort's words in English and byte order, whatever the host's.
export LC_ALL=C

t0=$(date +%s)
EXTRA_PKGS="linux-config-6.12 sparse" "$TOP/scripts/deps.sh"
ours_src=$(kernel_src ours) base_src=$(kernel_src anchor)
[ -f "$ours_src/Makefile" ] || die "no source in ${ours_src#$TOP/} (run: make tree)"
[ -f "$base_src/Makefile" ] || die "no source in ${base_src#$TOP/} (run: make base)"
cfg=${DISTRO_CONFIG:-/usr/src/linux-config-6.12/config.amd64_none_amd64.xz}
[ -f "$cfg" ] || die "no $cfg"
base=$(git -C "$ours_src" rev-parse base 2>/dev/null) ||
	die "build/linux has no 'base' tag (run: make tree)"

# The C files the series changes, as objects; the headers it changes reach
# them all.  tools/ is the selftests' (built by make selftests); another
# architecture's files are make ports' (Debian's config is amd64's).
objs=$(git -C "$ours_src" diff --name-only "$base" HEAD -- '*.c' |
	{ grep -v '^tools/' || true; } | { grep -v '^arch/' || true; }
	git -C "$ours_src" diff --name-only "$base" HEAD -- 'arch/x86/*.c')
objs=$(echo "$objs" | sed 's/\.c$/.o/' | sort)
[ -n "$objs" ] || die "the series touches no C file"

export CCACHE_DIR=${CCACHE_DIR:-$HOME/.cache/ccache}
export CCACHE_COMPILERCHECK=content
export CCACHE_SLOPPINESS=time_macros,include_file_mtime,include_file_ctime
# Absolute source paths in the diagnostics (no relative rewrite), so that
# each tree's own prefix is stripped below.
unset CCACHE_BASEDIR

# distro_config SRC OBJ [HVO]: Debian's config in OBJ, HVO on or off (as
# Debian has it if not given).
distro_config() {
	local src=$1 obj=$2 hvo=${3:-} got want=y
	mkdir -p "$obj"
	case "$cfg" in *.xz) xz -dc "$cfg" ;; *) cat "$cfg" ;; esac >"$obj/.config"
	# Debian's signing keys are not in the source tree; no object built
	# here needs them.
	"$src/scripts/config" --file "$obj/.config" \
		--set-str SYSTEM_TRUSTED_KEYS "" --set-str SYSTEM_REVOCATION_KEYS "" \
		--set-str MODULE_SIG_KEY "certs/signing_key.pem"
	case "$hvo" in
	on) "$src/scripts/config" --file "$obj/.config" --enable HUGETLB_PAGE_OPTIMIZE_VMEMMAP ;;
	off) "$src/scripts/config" --file "$obj/.config" --disable HUGETLB_PAGE_OPTIMIZE_VMEMMAP
		want=n ;;
	esac
	make -s -C "$src" O="$obj" ARCH=x86_64 olddefconfig >/dev/null
	[ -n "$hvo" ] || return 0
	got=$(grep -q '^CONFIG_HUGETLB_PAGE_OPTIMIZE_VMEMMAP=y' "$obj/.config" && echo y || echo n)
	[ "$got" = "$want" ] ||
		die "HVO $hvo: CONFIG_HUGETLB_PAGE_OPTIMIZE_VMEMMAP=$got after olddefconfig"
}

# selected SRC OBJ O: is object O built by this config?  Left out when its
# directory's Makefile adds it under an option (obj-$(CONFIG_X), or any
# other list-$(CONFIG_X)) that this config does not set.  Building such an
# object anyway would compile code whose header stubs replace it
# (mm/hugetlb_vmemmap.o with HVO off).
selected() {
	local src=$1 obj=$2 o=$3 sym
	sym=$(sed -e ':a' -e '/\\$/N; s/\\\n//; ta' "$src/$(dirname "$o")/Makefile" |
		sed -n "s/^[a-z0-9_-]*-\$(CONFIG_\([A-Z0-9_]*\))[[:space:]]*[+:]\?=.*[[:space:]]$(basename "$o")\b.*/\1/p" |
		head -1)
	[ -z "$sym" ] || grep -qE "^CONFIG_$sym=(y|m)" "$obj/.config"
}

# distro_build SRC OBJ: the objects this config selects, rebuilt from
# scratch (a rerun shows every warning again), W=1 and sparse; their
# warnings to OBJ/warnings as "file:line: message", paths from the tree's
# root.  Returns make's status.
distro_build() {
	local src=$1 obj=$2 want="" o rc=0
	for o in $objs; do
		selected "$src" "$obj" "$o" && want+=" $o"
		rm -f "$obj/$o" "$obj/$(dirname "$o")/.$(basename "$o").cmd"
	done
	echo "$want" >"$obj/objects"
	note "$(basename "$obj"): Debian's config, W=1 C=2:$want"
	make -C "$src" O="$obj" ARCH=x86_64 CC="ccache gcc" HOSTCC="ccache gcc" \
		-j"$(nproc)" W=1 C=2 $want >"$obj/build.log" 2>&1 || rc=$?
	# gcc and sparse: file:line:col: warning|error: ...; kernel-doc:
	# file:line: warning: ...  Every line kept, repeats included: a
	# warning of a header's macro or inline function is reported at the
	# header's line, once per place that uses it.
	grep -E '^[^ :]+:[0-9]+(:[0-9]+)?: (warning|error):' "$obj/build.log" |
		sed -E "s|^$src/||; s|^([^:]+:[0-9]+):[0-9]+:|\1:|" | sort >"$obj/warnings" || true
	return $rc
}

# keys FILE: its warnings as "file: message", one per warning.
keys() { sed -E 's/^([^:]+):[0-9]+: /\1: /' "$1" | sort; }

rc=0
# The base's own warnings, its config as Debian ships it (the base's option
# is a def_bool: HVO cannot be off there).
for tree in base ours-on ours-off; do
	src=$ours_src hvo=${tree#ours-}
	if [ $tree = base ]; then
		src=$base_src hvo=""
	fi
	obj=$BUILD/distro/$tree
	distro_config "$src" "$obj" "$hvo"
	if ! distro_build "$src" "$obj"; then
		grep -m20 -E 'error|Error' "$obj/build.log" >&2 || true
		echo "distro: $tree: build failed (${obj#$TOP/}/build.log)" >&2
		rc=1
	fi
done
base_w=$BUILD/distro/base/warnings
for hvo in on off; do
	ours=$BUILD/distro/ours-$hvo
	# Warnings ours gives more often than the base: each such key, with
	# our lines that carry it.
	new=$(comm -23 <(keys "$ours/warnings") <(keys "$base_w") | sort -u)
	if [ -n "$new" ]; then
		while IFS= read -r k; do
			grep -F "${k%%: *}:" "$ours/warnings" | grep -F ": ${k#*: }"
		done <<<"$new" >&2
		echo "distro: HVO $hvo: $(echo "$new" | wc -l) warnings the series adds (${ours#$TOP/}/warnings)" >&2
		rc=1
	else
		note "HVO $hvo: $(wc -w <"$ours/objects") objects built, no warning the base lacks ($(wc -l <"$ours/warnings") warnings, all the base's own: ${ours#$TOP/}/warnings; the base's build: $(wc -l <"$base_w"))"
	fi
done
note "make distro: $(($(date +%s) - t0)) s"
exit $rc
