#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# make docs: build the documentation the series writes or changes with the
# kernel's own Sphinx setup (python3-sphinx), HTML into build/docs, for the
# SPHINXDIRS that hold those pages, from a fresh environment (every page
# read again, so a rerun shows every warning again); and run
# scripts/kernel-doc -none -Wall on every C file and header the series
# changes.  Fails on a Sphinx warning, error or CRITICAL message that names
# a file the series changed (a page, or a source file whose kernel-doc a
# page pulls in), or on any kernel-doc warning; warnings on the base's
# other pages are counted and shown apart.  Prints how long it took.  Not
# part of make check: see the README.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

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
# Every file it changes, for the warnings' verdict.
changed=$(git -C "$src" diff --name-only "$base" HEAD | grep -v '^tools/')
dirs=$(for p in $pages; do
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
	(cd "$src" && scripts/kernel-doc -none -Wall "$@" 2>&1) |
		sed -E 's/^([^:]+):[0-9]+: /\1: /' | sort
}
kdoc=$(git -C "$src" diff --name-only "$base" HEAD -- '*.c' '*.h' | grep -v '^tools/')
base_src=$(kernel_src anchor)
[ -f "$base_src/Makefile" ] || die "no source in ${base_src#$TOP/} (run: make base)"
kdoc_new=$(comm -23 <(kdoc_keys "$src" $kdoc) \
	<(kdoc_keys "$base_src" $(cd "$base_src" && ls $kdoc 2>/dev/null)))
kdoc_all=$(kdoc_keys "$src" $kdoc | wc -l)
if [ -n "$kdoc_new" ]; then
	echo "$kdoc_new" >&2
	die "scripts/kernel-doc -none -Wall: $(echo "$kdoc_new" | wc -l) warnings the base lacks"
fi
note "scripts/kernel-doc -none -Wall on the $(echo $kdoc | wc -w) C files and headers the series changes: no warning the base lacks ($kdoc_all, all the base's own)"
note "Sphinx $(sphinx-build --version | awk '{print $NF}'): SPHINXDIRS=\"$dirs\""
if ! make -C "$src" O="$out" SPHINXDIRS="$dirs" SPHINXOPTS=-E htmldocs >"$log" 2>&1; then
	tail -20 "$log" >&2
	die "the documentation build failed (build/docs/build.log)"
fi
grep -iE 'warning|error|critical' "$log" | sed "s|$src/||g; s|^\./||" | sort -u >"$out/warnings" || true
ours=$(grep -F -f <(echo "$changed") "$out/warnings" || true)
theirs=$(($(wc -l <"$out/warnings") - $(printf '%s' "$ours" | grep -c . || true)))
tail -3 "$log"
if [ -n "$ours" ]; then
	echo "$ours" >&2
	die "$(echo "$ours" | wc -l) warnings on pages the series changed"
fi
note "$(echo $pages | wc -w) pages the series changed ($(echo $pages)): no warning ($theirs on the base's other pages: build/docs/warnings)"
note "make docs: $(($(date +%s) - t0)) s"
