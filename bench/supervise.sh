#!/bin/sh
# bench/supervise: minerd with 8 test miners polled every 10 s (the
# default): its CPU and PSS over an idle window, the time from kill -9
# of a miner to its restart, and (bench/history) the history insert
# rate and database size per miner-day.
#
#   sh bench/supervise.sh [BUILDDIR] [IDLE_SECONDS]
#
# Run as root from a built tree (users from etc/lethd-users.sh), after
# `make regress/testminer` (and `make bench` for the history figures).
# Every figure is printed with a baseline measured in the same run:
# minerd's own CPU and PSS with no miner, an idle `sleep` process's
# PSS, the configured first restart backoff, one fdatasync.
set -eu
B=$(cd "${1:-.}" && pwd)
IDLE=${2:-120}
NMINERS=8		# miners started
NKILLS=5		# kill -9 repetitions, one miner each
BACKOFF_MS=500		# MINER_BACKOFF_MIN_MS: the default first backoff
POLL_S=10		# MINER_POLL_DEFAULT
SETTLE=5		# seconds of quiet before each window
DEADLINE=600		# tenths of a second to wait for anything
[ "$(id -u)" = 0 ] || { echo "supervise.sh: run as root" >&2; exit 1; }
if [ ! -x "$B/regress/testminer" ]; then
	echo "supervise.sh: no $B/regress/testminer (make regress/testminer)" >&2
	exit 1
fi
T=$(mktemp -d /run/lethd-bench.XXXXXX)
chmod 755 "$T"
SP=
cleanup()
{
	pid=$(cat "$T/base/lethd.pid" 2>/dev/null || :)
	if [ -n "$pid" ] && kill "$pid" 2>/dev/null; then
		i=0
		while kill -0 "$pid" 2>/dev/null && [ $i -lt 100 ]; do
			sleep 0.1; i=$((i + 1))
		done
		kill -9 "$pid" 2>/dev/null || :
	fi
	[ -n "$SP" ] && kill "$SP" 2>/dev/null || :
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP
SOCK="$T/lethd.sock"
BASE="$T/base"
cat > "$T/lethd.conf" <<EOC
directory "$BASE"
socket "$SOCK"
listen on 127.0.0.1 port 0
EOC

ns() { date +%s%N; }
pss() { awk '/^Pss:/ { print $2 }' "/proc/$1/smaps_rollup"; }
# utime + stime in ticks (fields 14, 15; after the comm's ")")
cpu() { sed 's/.*) //' "/proc/$1/stat" | awk '{ print $12 + $13 }'; }
# time on a CPU in ns
run_ns() { awk '{ print $1 }' "/proc/$1/schedstat"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {
	if (b > 0) printf "%.2fx", a / b; else print "n/a (baseline 0)" }'; }
pct() { awk -v t="$1" -v d="$2" 'BEGIN { printf "%.4f", t * 100 / d }'; }
ctl() { "$B/lethctl" -s "$SOCK" "$@"; }
child() {
	for p in /proc/[0-9]*; do
		[ "$(awk '/^PPid:/ { print $2 }' $p/status 2>/dev/null)" = "$PARENT" ] &&
		[ "$(tr '\0' ' ' < $p/cmdline)" = "lethd: $1 " ] && echo ${p#/proc/} && return
	done
}
# field NAME KEY: a number (or null) from `lethctl -j miner stats NAME`
field() {
	ctl -j miner stats "$1" 2>/dev/null |
	    sed -n "s/^  \"$2\": *\([0-9.]*\|null\).*/\1/p"
}
waitfor() {
	i=0
	until "$@"; do
		i=$((i + 1))
		[ $i -gt $DEADLINE ] && { echo "timed out: $*" >&2; exit 1; }
		sleep 0.1
	done
}
reported() { r=$(field "$1" readAt); [ -n "$r" ] && [ "$r" != null ]; }

setsid "$B/lethd" -d -f "$T/lethd.conf" -x "$B" \
    >"$T/lethd.log" 2>&1 </dev/null &
waitfor ctl status >/dev/null 2>&1
PARENT=$(cat "$BASE/lethd.pid")
M=$(child minerd)
hz=$(getconf CLK_TCK)
sleep 1000 & SP=$!

# the baseline: minerd with no miner, over the same window
sleep $SETTLE
c0=$(cpu $M); n0=$(run_ns $M)
sleep "$IDLE"
c1=$(cpu $M); n1=$(run_ns $M)
b_ticks=$((c1 - c0)); b_ns=$((n1 - n0)); b_pss=$(pss $M)

install -o root -g root -m 0755 "$B/regress/testminer" "$BASE/miners/xmrig"
ctl profile add p --type xmrig --binary xmrig \
    --pool stratum+tcp://127.0.0.1:3333 --user w >/dev/null
i=1
while [ $i -le $NMINERS ]; do
	ctl miner start p --name m$i >/dev/null
	i=$((i + 1))
done
i=1
while [ $i -le $NMINERS ]; do
	waitfor reported m$i
	i=$((i + 1))
done
sleep $SETTLE
[ "$(child minerd)" = "$M" ] || { echo "minerd restarted" >&2; exit 1; }
c0=$(cpu $M); n0=$(run_ns $M)
sleep "$IDLE"
c1=$(cpu $M); n1=$(run_ns $M)
[ "$(child minerd)" = "$M" ] || { echo "minerd restarted" >&2; exit 1; }
m_ticks=$((c1 - c0)); m_ns=$((n1 - n0)); m_pss=$(pss $M)
s_pss=$(pss $SP)
polls=$((NMINERS * IDLE / POLL_S))

echo "minerd, $NMINERS test miners polled every $POLL_S s, $IDLE s idle window"
echo "(baseline: the same minerd with no miner, over $IDLE s just before)"
printf "  CPU:  %d ticks = %s%% of a core (goal: under 0.1%%); no miner: %d ticks = %s%%; %s\n" \
    $m_ticks "$(pct $((m_ticks * 1000 / hz)) $((IDLE * 1000)))" \
    $b_ticks "$(pct $((b_ticks * 1000 / hz)) $((IDLE * 1000)))" \
    "$(ratio $m_ticks $b_ticks)"
printf "        schedstat: %d us = %s%% of a core; no miner: %d us = %s%%; %s\n" \
    $((m_ns / 1000)) "$(pct $((m_ns / 1000)) $((IDLE * 1000000)))" \
    $((b_ns / 1000)) "$(pct $((b_ns / 1000)) $((IDLE * 1000000)))" \
    "$(ratio $m_ns $b_ns)"
printf "        over the no-miner baseline: %d us a second per miner (%d polls\n" \
    $(( (m_ns - b_ns) / 1000 / IDLE / NMINERS )) $polls
printf "        and the output lines the test miner prints every second)\n"
printf "  PSS:  %d KiB (goal: under 4096); no miner: %d KiB, %s; idle sleep(1): %d KiB, %s\n" \
    $m_pss $b_pss "$(ratio $m_pss $b_pss)" $s_pss "$(ratio $m_pss $s_pss)"

# kill -9 -> restart: the new pid among the parent's children (polled
# every 10 ms), then confirmed as that miner's by `lethctl miner stats`
: > "$T/restart" ; : > "$T/seen"
k=1
while [ $k -le $NKILLS ]; do
	old=$(field m$k pid)
	# (the file has no final newline: read fails but sets the line)
	read -r before < "/proc/$PARENT/task/$PARENT/children" || :
	t0=$(ns)
	kill -9 "$old"
	new=
	i=0
	while [ -z "$new" ]; do
		read -r now < "/proc/$PARENT/task/$PARENT/children" || :
		for c in $now; do
			case " $before " in *" $c "*) continue ;; esac
			new=$c
		done
		[ -n "$new" ] && break
		i=$((i + 1))
		[ $i -gt 6000 ] && { echo "m$k: not restarted" >&2; exit 1; }
		sleep 0.01
	done
	t1=$(ns)
	waitfor [ "$(field m$k pid)" = "$new" ]
	t2=$(ns)
	echo $(( (t1 - t0) / 1000000 )) >> "$T/restart"
	echo $(( (t2 - t0) / 1000000 )) >> "$T/seen"
	k=$((k + 1))
done
stats() { sort -n "$1" | awk '{ v[NR] = $1 } END {
	printf "min %d ms, median %d ms, max %d ms",
	    v[1], v[int((NR + 1) / 2)], v[NR] }'; }
med() { sort -n "$1" |
    awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
logged=$(grep -o 'restarting in [0-9]* ms' "$T/lethd.log" | sort | uniq -c |
    awk '{ printf "%s%d x %s ms", s, $1, $4; s = ", " }')
echo "kill -9 of a miner -> its restart, $NKILLS times (one miner each;"
echo "baseline: the configured first backoff, $BACKOFF_MS ms; logged: ${logged:-none})"
printf "  new process:           %s = %s the backoff\n" \
    "$(stats "$T/restart")" "$(ratio "$(med "$T/restart")" $BACKOFF_MS)"
printf "  its pid in lethctl:    %s = %s the backoff\n" \
    "$(stats "$T/seen")" "$(ratio "$(med "$T/seen")" $BACKOFF_MS)"

echo "history (bench/history, beside the state directory, on its disk)"
if [ -x "$B/bench/history" ]; then
	mkdir "$T/history"
	"$B/bench/history" "$T/history" | tee "$T/history.out" | sed 's/^/  /'
	ins=$(sed -n 's/^history_add, synchronous=FULL *\([0-9]*\) .*/\1/p' \
	    "$T/history.out")
	fs=$(sed -n 's/^baseline: fdatasync of 64 bytes *\([0-9]*\) .*/\1/p' \
	    "$T/history.out")
	day=$(sed -n 's/^one miner-day: .* = \([0-9]*\) bytes.*/\1/p' "$T/history.out")
	# a miner writes one sample a poll and one minute average a minute
	need=$(awk -v p=$POLL_S 'BEGIN { print 1 / p + 1 / 60 }')
	printf "  = %s the fdatasyncs/s;" "$(ratio "$ins" "$fs")"
	printf " room for %s miners at %d s polls (%.3f inserts/s each)\n" \
	    "$(awk -v a="$ins" -v b="$need" 'BEGIN { printf "%d", a / b }')" \
	    $POLL_S "$need"
	printf "  = %d KiB a miner-day, %d KiB a day for %d miners\n" \
	    $((day / 1024)) $((day * NMINERS / 1024)) $NMINERS
else
	echo "  bench/history not built: run \`make bench' in $B"
fi
