#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# make docs: build the documentation the series writes or changes with the
# kernel's own Sphinx setup (python3-sphinx), HTML into build/docs, for the
# SPHINXDIRS that hold those pages, from a fresh environment (every page
# read again, so a rerun shows every warning again); and run
# scripts/kernel-doc -none -Wall on every C file and header the series
# changes.  Each is done for the base (the anchor's source) too, and fails
# on a Sphinx warning, error or CRITICAL message, or a kernel-doc warning,
# that the base's does not give (file and message compared, not line
# numbers); the base's own are counted apart.  Prints how long it took.
# Not part of make check: see the README.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
# Tools' words in English and byte order, whatever the host's.
export LC_ALL=C

t0=$(date +%s)
src=$(kernel_src ours)
[ -f "$src/Makefile" ] || die "no source in ${src#$TOP/} (run: make tree)"
EXTRA_PKGS="python3-sphinx python3-yaml" "$TOP/scripts/deps.sh"
base=$(git -C "$src" rev-parse base 2>/dev/null) || die "build/linux has no 'base' tag (run: make tree)"

# The pages the series changes, and the Sphinx directories that hold them
# (a page outside them, kernel-parameters.txt say, is built with its own).
pages=$(git -C "$src" diff --name-only "$base" HEAD -- Documentation |
	grep -E '\.(rst|txt)$' | grep -v '^Documentation/ABI/' || true)
[ -n "$pages" ] || die "the series changes no documentation page"
# The C files and headers it changes, and the pages that pull in their
# kernel-doc (Documentation/core-api/mm-api.rst: mm/page_alloc.c, ...),
# built as well.
kdoc=$(git -C "$src" diff --name-only "$base" HEAD -- '*.c' '*.h' | { grep -v '^tools/' || true; })
kdoc_pages=$(cd "$src" && [ -n "$kdoc" ] &&
	grep -rlE "^\.\. kernel-doc:: ($(echo $kdoc | sed 's/\./\\./g; s/ /|/g'))([[:space:]]|$)" \
		Documentation --include='*.rst' || true)
dirs=$(for p in $pages $kdoc_pages; do
	d=$(dirname "${p#Documentation/}")
	while [ "$d" != . ] && [ ! -f "$src/Documentation/$d/index.rst" ]; do
		d=$(dirname "$d")
	done
	echo "$d"
done | sort -u | awk '{ for (i = 1; i <= n; i++) if (index($0, d[i] "/") == 1) next
	d[++n] = $0; print }' | tr '\n' ' ')
case " $dirs " in *" . "*) die "a page outside any Sphinx directory: $pages" ;; esac

out=$BUILD/docs log=$BUILD/docs/build.log
mkdir -p "$out"

# kernel-doc on the C files and headers the series changes, against the
# base's own warnings in the same files (file and message compared without
# line numbers): a warning the base lacks is the series'.
kdoc_keys() { # SRC FILE...: "file: message" of each kernel-doc warning
	local src=$1
	shift
	# Warnings only: no -Werror from the environment, whose exit status
	# would end this script.
	(cd "$src" && env -u KCFLAGS -u KDOC_WERROR scripts/kernel-doc -none -Wall "$@" 2>&1 || true) |
		sed -E 's/^([^:]+):[0-9]+: /\1: /' | sort
}
base_src=$(kernel_src anchor)
[ -f "$base_src/Makefile" ] || die "no source in ${base_src#$TOP/} (run: make base)"
kdoc_ours=$(kdoc_keys "$src" $kdoc)
kdoc_new=$(comm -23 <(echo "$kdoc_ours" | sed '/^$/d') \
	<(kdoc_keys "$base_src" $(cd "$base_src" && ls $kdoc 2>/dev/null || true)))
kdoc_all=$(echo "$kdoc_ours" | sed '/^$/d' | wc -l)
if [ -n "$kdoc_new" ]; then
	echo "$kdoc_new" >&2
	die "scripts/kernel-doc -none -Wall: $(echo "$kdoc_new" | wc -l) warnings the base lacks"
fi
note "scripts/kernel-doc -none -Wall on the $(echo $kdoc | wc -w) C files and headers the series changes: no warning the base lacks ($kdoc_all, all the base's own)"
note "Sphinx $(sphinx-build --version | awk '{print $NF}'): SPHINXDIRS=\"$dirs\", ours and the base"
# docs_build SRC OUT: the HTML of $dirs from a fresh environment (-E: every
# page read again) into OUT, its Sphinx and kernel-doc warnings, errors and
# CRITICAL messages to OUT/warnings as "file: message" (no line number: the
# base's lines are not ours), paths from the tree's root.
docs_build() {
	local src=$1 out=$2
	mkdir -p "$out"
	# -q as Documentation/Makefile has it (SPHINXOPTS given here
	# replaces its own): no progress lines among the warnings.
	if ! make -C "$src" O="$out" SPHINXDIRS="$dirs" SPHINXOPTS="-E -q" htmldocs \
		>"$out/build.log" 2>&1; then
		tail -20 "$out/build.log" >&2
		die "the documentation build failed (${out#$TOP/}/build.log)"
	fi
	# Not Sphinx's closing count ("build succeeded, N warnings.").
	grep -E '(WARNING|ERROR|CRITICAL|SEVERE):|: (warning|error):' "$out/build.log" |
		sed -E "s|$src/||g; s|$out/||g; s|^\./||; s/^([^: ]+):[0-9]+: /\1: /" | sort >"$out/warnings" || true
}
docs_build "$src" "$out"
docs_build "$base_src" "$BUILD/docs-base"
tail -3 "$out/build.log"
# Each SPHINXDIRS directory is a project of its own, so a reference to a
# page of another one is unresolved: those warnings are the base's as well.
new=$(comm -23 "$out/warnings" "$BUILD/docs-base/warnings" | sort -u)
if [ -n "$new" ]; then
	echo "$new" >&2
	die "$(echo "$new" | wc -l) documentation warnings the base's build lacks (build/docs/warnings)"
fi
note "$(echo $pages | wc -w) pages the series changed ($(echo $pages)) and $(echo $kdoc_pages | wc -w) that pull in the kernel-doc of its C files and headers ($(echo $kdoc_pages)): no warning the base's build lacks ($(wc -l <"$out/warnings") warnings, all the base's own: build/docs/warnings)"
note "make docs: $(($(date +%s) - t0)) s"
