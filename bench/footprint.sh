#!/bin/sh
# bench/footprint: memory and CPU of the four lethd processes when idle,
# and the time from starting lethd to the control socket answering.
#
#   sh bench/footprint.sh [BUILDDIR] [IDLE_SECONDS]
#
# Run as root from a built tree (users from etc/lethd-users.sh).
# Figures are printed with a baseline measured in the same run: the PSS
# of an idle `sleep` process, and one lethctl round trip to the running
# daemon.
set -eu
B=$(cd "${1:-.}" && pwd)
IDLE=${2:-60}
T=$(mktemp -d /run/lethd-bench.XXXXXX)
chmod 755 "$T"
trap 'kill $(cat "$T/base/lethd.pid" 2>/dev/null) 2>/dev/null; sleep 1; rm -rf "$T"' EXIT
cat > "$T/lethd.conf" <<EOC
directory "$T/base"
socket "$T/lethd.sock"
listen on 127.0.0.1 port 0
EOC

ns() { date +%s%N; }
pss() { awk '/^Pss:/ { print $2 }' "/proc/$1/smaps_rollup"; }
cpu() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
child() {
	for p in /proc/[0-9]*; do
		[ "$(awk '/^PPid:/ { print $2 }' $p/status 2>/dev/null)" = "$PARENT" ] &&
		[ "$(tr '\0' ' ' < $p/cmdline)" = "lethd: $1 " ] && echo ${p#/proc/} && return
	done
}

t0=$(ns)
"$B/lethd" -f "$T/lethd.conf" -x "$B"
until "$B/lethctl" -s "$T/lethd.sock" status >/dev/null 2>&1; do :; done
t1=$(ns)
"$B/lethctl" -s "$T/lethd.sock" node init >/dev/null
t2=$(ns)
"$B/lethctl" -s "$T/lethd.sock" status >/dev/null
t3=$(ns)
PARENT=$(cat "$T/base/lethd.pid")
pids="$PARENT $(child keyd) $(child netd) $(child minerd)"
sleep 1000 & sp=$!
hz=$(getconf CLK_TCK)
c0=0; for p in $pids; do c0=$((c0 + $(cpu $p))); done
sleep "$IDLE"
c1=0; for p in $pids; do c1=$((c1 + $(cpu $p))); done
total=0
echo "process        PSS KiB"
for p in $pids; do
	k=$(pss $p); total=$((total + k))
	printf "%-12s %8d\n" "$(tr '\0' ' ' < /proc/$p/cmdline | cut -c1-12)" "$k"
done
base=$(pss $sp); kill $sp
printf "%-12s %8d   (goal: under 8192)\n" "total" "$total"
printf "baseline: an idle sleep(1) process: %d KiB PSS; the family is %.1fx that\n" \
    "$base" "$(awk -v a=$total -v b=$base 'BEGIN { print a / b }')"
ticks=$((c1 - c0))
printf "CPU over %d s idle: %d ticks = %.4f%% of a core (goal: under 0.1%%)\n" \
    "$IDLE" "$ticks" "$(awk -v t=$ticks -v h=$hz -v i=$IDLE 'BEGIN { print t * 100 / h / i }')"
start_ms=$(( (t1 - t0) / 1000000 ))
rt_us=$(( (t3 - t2) / 1000 ))
printf "start to control socket answering: %d ms; one lethctl status round trip: %d us (%.0fx)\n" \
    "$start_ms" "$rt_us" "$(awk -v a=$((t1 - t0)) -v b=$((t3 - t2)) 'BEGIN { print a / b }')"
