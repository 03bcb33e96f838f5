#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# guest-results.sh PLAN CMDLOG: the results of one guest run, one a line, as
#   ok|NAME   not ok|NAME   skip|NAME|WHY
# PLAN names every result the run should report, one a line, as the guest
# script's --plan prints them (a name may repeat).  A TAP line of CMDLOG is
# the planned result whose name it equals or starts with followed by ':' or
# ' #'.  A planned result that never came (the guest died, hung or was
# stopped) is 'not ok ... not reached'; a result that is in no plan is
# 'not ok' too, so that the plan cannot fall behind the script.
set -euo pipefail
[ $# = 2 ] && [ -r "$1" ] || { echo "usage: guest-results.sh PLAN CMDLOG" >&2; exit 2; }
cmdlog=$2
[ -r "$cmdlog" ] || cmdlog=/dev/null
awk '
FILENAME == ARGV[1] { if ($0 != "") plan[++np] = $0; next }
/^(not )?ok [0-9]+ / {
	st = $1 == "not" ? "not ok" : "ok"
	name = $0
	sub(/^(not )?ok [0-9]+ /, "", name)
	base = name
	skip = ""
	if (st == "ok" && (i = index(name, " # SKIP")) > 0) {
		base = substr(name, 1, i - 1)
		skip = substr(name, i + 7)
		sub(/^ /, "", skip)
		if (skip == "") skip = "skipped"
	}
	found = 0
	for (i = 1; i <= np; i++) {
		p = plan[i]
		if (used[i]) continue
		if (base == p || index(base, p ":") == 1 || index(base, p " #") == 1) {
			used[i] = 1
			found = 1
			break
		}
	}
	if (!found && st == "ok")
		print "not ok|" base " (a result in no plan: see the guest script'"'"'s --plan)"
	else if (skip != "")
		print "skip|" base "|" skip
	else
		print st "|" name
}
END {
	for (i = 1; i <= np; i++)
		if (!used[i])
			print "not ok|" plan[i] ": not reached (the guest stopped before it)"
}' "$1" "$cmdlog"
