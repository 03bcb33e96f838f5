#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# apply-series.sh PATCHDIR TREE: apply PATCHDIR/series to a Linux 6.12 tree.
#
# In a git tree each patch becomes one commit with its author, date and
# message.  In a plain tree the patches are applied to the files only.
#
# Deletions written with 'git format-patch --irreversible-delete' carry no
# removed text, so 'git am' and 'git apply' refuse them.  For each such
# deletion this script checks that the file's blob id matches the patch's
# 'index' line, removes the file, then applies the rest of the patch.
set -euo pipefail

die() { printf 'apply-series: error: %s\n' "$*" >&2; exit 1; }

[ $# -eq 2 ] || die "usage: apply-series.sh PATCHDIR TREE"
pdir=$(cd "$1" && pwd -P) || die "no patch directory $1"
tree=$(cd "$2" && pwd -P) || die "no tree $2"
[ -f "$tree/Makefile" ] && grep -q '^PATCHLEVEL = 12$' "$tree/Makefile" ||
	die "$tree is not a Linux 6.12 tree"
series=$pdir/series
[ -f "$series" ] || { echo "apply-series: no $series, nothing to apply" >&2; exit 0; }

is_git=0
git -C "$tree" rev-parse --is-inside-work-tree >/dev/null 2>&1 &&
	[ "$(git -C "$tree" rev-parse --show-toplevel)" = "$tree" ] && is_git=1
if [ $is_git = 1 ] && [ -n "$(git -C "$tree" status --porcelain --untracked-files=no)" ]; then
	die "$tree has uncommitted changes"
fi
# A plain tree inside some other git work tree: keep git apply to this one.
export GIT_CEILING_DIRECTORIES=${tree%/*}
# Commits need an identity; use the tree's or the user's, else a neutral one.
if [ $is_git = 1 ] && ! git -C "$tree" config user.email >/dev/null; then
	export GIT_COMMITTER_NAME=${GIT_COMMITTER_NAME:-apply-series}
	export GIT_COMMITTER_EMAIL=${GIT_COMMITTER_EMAIL:-apply-series@localhost}
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# split_deletions PATCH: write the irreversible deletions ('path blob' per
# line) to $work/deletions and everything else to $work/rest.
split_deletions() {
	awk -v dels="$work/deletions" -v rest="$work/rest" '
	function flush() {
		if (sect == "") return
		if (deleted && !hunks) print path, blob > dels
		else printf "%s", sect > rest
		sect = ""
	}
	/^diff --git / {
		flush(); deleted = 0; hunks = 0; blob = ""
		path = $3; sub(/^a\//, "", path)
		sect = $0 "\n"; indiff = 1; next
	}
	indiff && /^-- $/ { flush(); indiff = 0; printf "%s\n", $0 > rest; next }
	indiff {
		if ($0 ~ /^deleted file mode /) deleted = 1
		else if ($0 ~ /^index [0-9a-f]+\.\.0+$/ && deleted) {
			blob = $2; sub(/\.\..*/, "", blob)
		} else if ($0 ~ /^(@@ |--- |GIT binary patch|Binary files )/) hunks = 1
		sect = sect $0 "\n"; next
	}
	{ print > rest }
	END { flush() }' "$1"
	touch "$work/deletions"
}

n=0
while read -r name <&3 || [ -n "$name" ]; do
	case "$name" in ''|'#'*) continue ;; esac
	p=$pdir/$name
	[ -f "$p" ] || die "series names $name, which is not in $pdir"
	n=$((n + 1))
	rm -f "$work/deletions" "$work/rest"
	split_deletions "$p"

	# Check the whole patch before touching the tree.
	while read -r path blob; do
		[ -n "$blob" ] || die "$name deletes $path without a blob id"
		[ -f "$tree/$path" ] || die "$name deletes $path, which $tree does not have"
		have=$(git hash-object "$tree/$path")
		case "$have" in
		"$blob"*) ;;
		*) die "$name deletes $path with blob $blob, but the tree has $have" ;;
		esac
	done <"$work/deletions"
	if grep -q '^diff --git ' "$work/rest"; then
		(cd "$tree" && git apply --check --whitespace=nowarn "$work/rest") ||
			die "$name does not apply"
	fi

	while read -r path blob; do
		if [ $is_git = 1 ]; then
			git -C "$tree" rm -q -- "$path"
		else
			rm -- "$tree/$path"
		fi
	done <"$work/deletions"

	if grep -q '^diff --git ' "$work/rest"; then
		if [ $is_git = 1 ]; then
			git -C "$tree" apply --index --whitespace=nowarn "$work/rest" ||
				die "$name does not apply"
		else
			(cd "$tree" && git apply --whitespace=nowarn "$work/rest") ||
				die "$name does not apply"
		fi
	fi

	if [ $is_git = 1 ]; then
		git mailinfo -k "$work/msg" /dev/null <"$p" >"$work/info"
		subject=$(sed -n 's/^Subject: //p' "$work/info")
		author=$(sed -n 's/^Author: //p' "$work/info")
		email=$(sed -n 's/^Email: //p' "$work/info")
		date=$(sed -n 's/^Date: //p' "$work/info")
		subject=${subject#\[PATCH*\] }
		{ printf '%s\n\n' "$subject"; cat "$work/msg"; } >"$work/commitmsg"
		GIT_AUTHOR_NAME=$author GIT_AUTHOR_EMAIL=$email GIT_AUTHOR_DATE=$date \
			git -C "$tree" commit -q --allow-empty --cleanup=whitespace -F "$work/commitmsg" ||
			die "cannot commit $name"
	fi
	printf 'applied %s\n' "$name"
done 3<"$series"
printf 'apply-series: %d patches applied to %s\n' "$n" "$tree" >&2
