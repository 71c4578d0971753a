#! @ATF_SH@
# The parent's side of miner supervision, through the real daemon: the
# checks on a binary, the miner's process (user, group, cgroup, limits,
# environment), restarts with backoff, failed, stop of a whole group,
# kill -9 of minerd and of the parent, shutdown.  Real processes, as
# root; the miner is regress/testminer.

. "@abs_builddir@/regress/lib.subr"

TESTMINER="$BUILD/regress/testminer"

# sup_setup [config lines]: a daemon with quick supervision windows
sup_setup()
{
	[ -x "$TESTMINER" ] || atf_skip "no $TESTMINER"
	lethd_setup "miner backoff 200 2000" "miner stop grace 3" "$@"
}

# sup_start: start it and install the test miner, root 0755
sup_start()
{
	lethd_start
	install_miner testminer
}

# install_miner NAME [MODE]: a copy of the test miner in miners/
install_miner()
{
	cp "$TESTMINER" "$BASE/miners/$1"
	chown root:root "$BASE/miners/$1"
	chmod "${2:-0755}" "$BASE/miners/$1"
}

# api METHOD PATH [BODY]: the control API; the body on stdout, true on 2xx
api()
{
	if [ -n "${3:-}" ]; then
		code=$(curl -s -m 60 -o "$T/api.out" -w '%{http_code}' \
		    --unix-socket "$SOCK" -X "$1" \
		    -H 'Content-Type: application/json' -d "$3" \
		    "http://lethd$2")
	else
		code=$(curl -s -m 60 -o "$T/api.out" -w '%{http_code}' \
		    --unix-socket "$SOCK" -X "$1" "http://lethd$2")
	fi
	cat "$T/api.out"
	case "$code" in 2*) return 0 ;; esac
	return 1
}

# profile ID BINARY [extra args...]: an xmrig profile for the test miner
profile()
{
	_id=$1 _bin=$2
	shift 2
	_extra=$(python3 -c 'import json, sys; print(json.dumps(sys.argv[1:]))' "$@")
	api POST /api/v1/profiles "{\"id\":\"$_id\",\"type\":\"xmrig\",
	    \"binary\":\"$_bin\",\"pool\":\"stratum+tcp://127.0.0.1:3333\",
	    \"user\":\"wallet\",\"algo\":\"rx/0\",\"extra\":$_extra}" \
	    >/dev/null || atf_fail "profile $_id: $(cat "$T/api.out")"
}

# start_miner PROFILE NAME: POST /miners; fails the test on an error
start_miner()
{
	api POST /api/v1/miners "{\"profile\":\"$1\",\"name\":\"$2\"}" \
	    >/dev/null || atf_fail "start $2: $(cat "$T/api.out")"
}

# miner_pids: pids of the parent's children that are test miners
miner_pids()
{
	for p in /proc/[0-9]*; do
		[ "$(awk '/^PPid:/ { print $2 }' "$p/status" 2>/dev/null)" = \
		    "$PARENT" ] || continue
		case "$(tr '\0' ' ' < "$p/cmdline" 2>/dev/null)" in
		testminer\ *) echo "${p#/proc/}" ;;
		esac
	done
}

# miner_pid: the one test miner's pid, waiting up to 30 s for it
miner_pid()
{
	_i=0
	while [ -z "$(miner_pids)" ]; do
		_i=$((_i + 1))
		[ $_i -gt 300 ] && return 1
		sleep 0.1
	done
	miner_pids | head -1
}

# alive PID: the process exists and is not a zombie
alive()
{
	[ -d "/proc/$1" ] && [ "$(proc_status "$1" State)" != Z ]
}

gone()
{
	! alive "$1"
}

# log_has REGEX: the daemon logged a matching line (waits for it)
log_has()
{
	wait_for grep -Eq "$1" "$T/lethd.log"
}

atf_test_case miner_runs_as_the_miner_user_in_its_own_group cleanup
miner_runs_as_the_miner_user_in_its_own_group_head()
{
	atf_set descr "a miner runs as the miner user, own session and group, clean environment, no secret on its command line"
	atf_set require.user root
}
miner_runs_as_the_miner_user_in_its_own_group_body()
{
	sup_setup
	sup_start
	profile p1 testminer
	start_miner p1 m1
	pid=$(miner_pid) || atf_fail "no miner: $(cat "$T/lethd.log")"
	[ "$(proc_status "$pid" Uid | cut -f1)" = "$(id -u _lethminer)" ] || \
	    atf_fail "miner uid $(proc_status "$pid" Uid)"
	set -- $(awk '/^Uid:/ { print $2, $3, $4, $5 }' /proc/$pid/status)
	[ "$1" = "$2" ] && [ "$2" = "$3" ] && [ "$3" = "$4" ] || \
	    atf_fail "miner uids differ: $*"
	[ "$(proc_status "$pid" Groups)" = "$(id -g _lethminer)" ] || \
	    atf_fail "supplementary groups: $(proc_status "$pid" Groups)"
	# its own session and process group
	set -- $(sed 's/.*) //' /proc/$pid/stat)
	[ "$3" = "$pid" ] || atf_fail "pgid $3, not $pid"
	[ "$4" = "$pid" ] || atf_fail "sid $4, not $pid"
	# dies with the parent, core limit 0
	grep -q '^Max core file size *0 *0' /proc/$pid/limits || \
	    atf_fail "core limit: $(grep core /proc/$pid/limits)"
	[ "$(proc_status "$pid" NoNewPrivs)" = 1 ] || atf_fail "no no_new_privs"
	# clean environment, cwd in its work directory
	env=$(tr '\0' '\n' < /proc/$pid/environ | sort | tr '\n' ' ')
	[ "$env" = "HOME=$BASE/work/0 PATH=/usr/bin:/bin " ] || \
	    atf_fail "environment: $env"
	[ "$(readlink /proc/$pid/cwd)" = "$BASE/work/0" ] || \
	    atf_fail "cwd $(readlink /proc/$pid/cwd)"
	# the config file: the miner user's, 0600; the token is not argv
	cfg=$(ls "$BASE/work/0" | grep -v testminer | head -1)
	[ -n "$cfg" ] || atf_fail "no config file in work/0"
	[ "$(stat -c '%U %a' "$BASE/work/0/$cfg")" = "_lethminer 600" ] || \
	    atf_fail "config $(stat -c '%U %a' "$BASE/work/0/$cfg")"
	tok=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["http"]["access-token"])' "$BASE/work/0/$cfg")
	[ -n "$tok" ] || atf_fail "no token in the config"
	if tr '\0' ' ' < /proc/$pid/cmdline | grep -q "$tok"; then
		atf_fail "the API token is on the command line"
	fi
	# stdin /dev/null; stdout and stderr a pipe; nothing else open
	[ "$(readlink /proc/$pid/fd/0)" = /dev/null ] || atf_fail "stdin"
	readlink /proc/$pid/fd/1 | grep -q '^pipe:' || atf_fail "stdout"
	# a cgroup of this instance, where cgroup v2 is writable
	if [ -n "$(cgroup2_mount)" ]; then
		grep -q '^0::/lethd-[0-9a-f]*/slot0$' /proc/$pid/cgroup || \
		    atf_fail "cgroup: $(cat /proc/$pid/cgroup)"
	fi
	# the parent's record: root 0600
	[ "$(stat -c '%U %a' "$BASE/slots")" = "root 600" ] || \
	    atf_fail "slots file $(stat -c '%U %a' "$BASE/slots")"
	check_no_restarts
}
miner_runs_as_the_miner_user_in_its_own_group_cleanup() { lethd_cleanup; }

# cgroup2_mount: where cgroup v2 is mounted, if it is writable
cgroup2_mount()
{
	awk '{ for (i = 1; i <= NF; i++) if ($i == "-") break;
	    if ($(i + 1) == "cgroup2") { print $5; exit } }' /proc/self/mountinfo |
	while read -r m; do
		if mkdir "$m/lethd-probe.$$" 2>/dev/null; then
			rmdir "$m/lethd-probe.$$"
			echo "$m"
		fi
	done
}

atf_test_case killed_miner_is_restarted_with_backoff cleanup
killed_miner_is_restarted_with_backoff_head()
{
	atf_set descr "kill -9 of a miner restarts it after the logged backoff"
	atf_set require.user root
}
killed_miner_is_restarted_with_backoff_body()
{
	sup_setup
	sup_start
	profile p1 testminer
	start_miner p1 m1
	pid=$(miner_pid) || atf_fail "no miner: $(cat "$T/lethd.log")"
	kill -9 "$pid"
	log_has "miner m1 \\(pid $pid\\) killed by signal 9: restarting in 200 ms" || \
	    atf_fail "no backoff line: $(cat "$T/lethd.log")"
	i=0
	while :; do
		new=$(miner_pids | head -1)
		[ -n "$new" ] && [ "$new" != "$pid" ] && break
		i=$((i + 1))
		[ $i -gt 300 ] && atf_fail "not restarted: $(cat "$T/lethd.log")"
		sleep 0.1
	done
	log_has "miner m1 restarted \\(pid $new, restart 1\\)" || \
	    atf_fail "no restart line"
	# the second crash doubles the wait
	kill -9 "$new"
	log_has "miner m1 \\(pid $new\\) killed by signal 9: restarting in 400 ms" || \
	    atf_fail "backoff did not double: $(cat "$T/lethd.log")"
	check_no_restarts
}
killed_miner_is_restarted_with_backoff_cleanup() { lethd_cleanup; }

atf_test_case crash_loop_ends_in_failed cleanup
crash_loop_ends_in_failed_head()
{
	atf_set descr "a miner that keeps crashing is marked failed and not restarted"
	atf_set require.user root
}
crash_loop_ends_in_failed_body()
{
	sup_setup "miner failed after 3 crashes in 300 seconds"
	sup_start
	profile p1 testminer --test-crash-after=0
	api POST /api/v1/miners '{"profile":"p1","name":"m1"}' >/dev/null || true
	log_has "miner m1 failed: 3 crashes in 300 s" || \
	    atf_fail "not failed: $(cat "$T/lethd.log")"
	n=$(grep -c "miner m1 .*exited with status 1: restarting" "$T/lethd.log")
	[ "$n" = 2 ] || atf_fail "$n restarts before failed, want 2"
	sleep 3
	[ -z "$(miner_pids)" ] || atf_fail "a failed miner runs"
	check_no_restarts
}
crash_loop_ends_in_failed_cleanup() { lethd_cleanup; }

atf_test_case stop_kills_the_whole_group cleanup
stop_kills_the_whole_group_head()
{
	atf_set descr "stop kills the miner, a child that ignores SIGTERM and one that called setsid"
	atf_set require.user root
}
stop_kills_the_whole_group_body()
{
	sup_setup
	sup_start
	[ -n "$(cgroup2_mount)" ] || \
	    echo "no writable cgroup v2: relying on the process group" >&2
	profile p1 testminer --test-hang-term --test-fork-setsid \
	    --test-fork-ignore-term
	start_miner p1 m1
	pid=$(miner_pid) || atf_fail "no miner: $(cat "$T/lethd.log")"
	wait_for test -s "$BASE/work/0/testminer-setsid.pid" || atf_fail "no setsid child"
	wait_for test -s "$BASE/work/0/testminer-child.pid" || atf_fail "no child"
	sid=$(cat "$BASE/work/0/testminer-setsid.pid")
	child=$(cat "$BASE/work/0/testminer-child.pid")
	alive "$sid" && alive "$child" || atf_fail "children not running"
	api DELETE /api/v1/miners/m1 >/dev/null || \
	    atf_fail "stop: $(cat "$T/api.out")"
	log_has "miner m1 \\(pid $pid\\) did not stop in 3 s: killing it" || \
	    atf_fail "no SIGKILL after the grace: $(cat "$T/lethd.log")"
	wait_for gone "$pid" || atf_fail "miner $pid survived"
	wait_for gone "$child" || atf_fail "SIGTERM-ignoring child $child survived"
	wait_for gone "$sid" || atf_fail "setsid child $sid survived"
	log_has "miner m1 \\(pid $pid\\) stopped" || atf_fail "no stop line"
	check_no_restarts
}
stop_kills_the_whole_group_cleanup() { lethd_cleanup; }

atf_test_case refused_binaries_say_why cleanup
refused_binaries_say_why_head()
{
	atf_set descr "a symlink, a script, a group-writable binary or directory, a binary outside: refused with the reason"
	atf_set require.user root
}
refused_binaries_say_why_body()
{
	sup_setup
	sup_start
	ln -s testminer "$BASE/miners/link"
	printf '#!/bin/sh\nsleep 100\n' > "$BASE/miners/script"
	chmod 0755 "$BASE/miners/script"
	install_miner gw 0775
	mkdir -m 0775 "$BASE/miners/gwdir"
	install_miner gwdir/tm
	for c in "link symlink" "script not an ELF binary" \
	    "gw group- or world-writable" \
	    "gwdir/tm a directory on the path is group-writable"; do
		bin=${c%% *} why=${c#* }
		id=$(echo "$bin" | tr / _)
		profile "$id" "$bin"
		if api POST /api/v1/miners "{\"profile\":\"$id\",\"name\":\"$id\"}" \
		    >/dev/null; then
			atf_fail "$bin was started"
		fi
		grep -q "$why" "$T/api.out" || \
		    atf_fail "$bin: answer $(cat "$T/api.out"), want $why"
		log_has "miner spawn refused \\(slot [0-9]+\\): $why" || \
		    atf_fail "$bin: not logged"
	done
	[ -z "$(miner_pids)" ] || atf_fail "a refused miner runs"
	check_no_restarts
}
refused_binaries_say_why_cleanup() { lethd_cleanup; }

atf_test_case miner_survives_minerd_netd_keyd_kills cleanup
miner_survives_minerd_netd_keyd_kills_head()
{
	atf_set descr "kill -9 of minerd, netd and keyd leaves the miner running with the same pid"
	atf_set require.user root
}
miner_survives_minerd_netd_keyd_kills_body()
{
	sup_setup
	sup_start
	profile p1 testminer
	start_miner p1 m1
	pid=$(miner_pid) || atf_fail "no miner: $(cat "$T/lethd.log")"
	for c in minerd netd keyd; do
		cp=$(child_pid $c) || atf_fail "no $c"
		kill -9 "$cp"
		wait_for sh -c "p=\$(for p in /proc/[0-9]*; do
		    [ \"\$(tr '\\0' ' ' < \$p/cmdline 2>/dev/null)\" = 'lethd: $c ' ] &&
		    echo \${p#/proc/}; done); [ -n \"\$p\" ] && [ \"\$p\" != $cp ]" || \
		    atf_fail "$c not restarted"
	done
	wait_for "$LETHCTL" -s "$SOCK" status || atf_fail "no control socket"
	alive "$pid" || atf_fail "the miner died"
	[ "$(miner_pids)" = "$pid" ] || atf_fail "miners now: $(miner_pids)"
	# it keeps printing: the parent drained, minerd reads again
	sleep 3
	alive "$pid" || atf_fail "the miner died later"
	[ "$(proc_status "$pid" State | cut -c1)" != D ] || atf_fail "blocked"
	check_no_restarts minerd netd keyd
}
miner_survives_minerd_netd_keyd_kills_cleanup() { lethd_cleanup; }

atf_test_case killed_parent_takes_its_miners_and_leftovers_are_cleared cleanup
killed_parent_takes_its_miners_and_leftovers_are_cleared_head()
{
	atf_set descr "kill -9 of the parent kills its miner; a setsid'ed leftover is cleared at the next start"
	atf_set require.user root
}
killed_parent_takes_its_miners_and_leftovers_are_cleared_body()
{
	sup_setup
	sup_start
	[ -n "$(cgroup2_mount)" ] || atf_skip "no writable cgroup v2: leftovers need one"
	profile p1 testminer --test-fork-setsid
	start_miner p1 m1
	pid=$(miner_pid) || atf_fail "no miner: $(cat "$T/lethd.log")"
	wait_for test -s "$BASE/work/0/testminer-setsid.pid" || atf_fail "no setsid child"
	sid=$(cat "$BASE/work/0/testminer-setsid.pid")
	# the whole family: children die with their pipe to the parent
	kill -9 "$PARENT"
	wait_for gone "$pid" || atf_fail "the miner outlived the parent"
	wait_for sh -c "! '$LETHCTL' -s '$SOCK' status" || \
	    atf_fail "the family lives on"
	# what the miner left: nobody's child now, still in its cgroup
	alive "$sid" || atf_fail "the setsid child did not outlive the parent"
	lethd_start
	wait_for gone "$sid" || atf_fail "leftover $sid not cleared at start"
	grep -q "killing leftover miner processes" "$T/lethd.log" || \
	    atf_fail "clearing not logged: $(cat "$T/lethd.log")"
}
killed_parent_takes_its_miners_and_leftovers_are_cleared_cleanup() { lethd_cleanup; }

atf_test_case shutdown_stops_the_miners cleanup
shutdown_stops_the_miners_head()
{
	atf_set descr "SIGTERM to lethd stops its miners (and their children) before it exits"
	atf_set require.user root
}
shutdown_stops_the_miners_body()
{
	sup_setup
	sup_start
	profile p1 testminer --test-fork-ignore-term
	start_miner p1 m1
	pid=$(miner_pid) || atf_fail "no miner: $(cat "$T/lethd.log")"
	wait_for test -s "$BASE/work/0/testminer-child.pid" || atf_fail "no child"
	child=$(cat "$BASE/work/0/testminer-child.pid")
	kill "$PARENT"
	wait_for gone "$PARENT" || atf_fail "lethd did not exit"
	gone "$pid" || atf_fail "the miner outlived lethd"
	wait_for gone "$child" || atf_fail "the miner's child outlived lethd"
	grep -q "stopped 1 miners" "$T/lethd.log" || \
	    atf_fail "no stop line: $(cat "$T/lethd.log")"
}
shutdown_stops_the_miners_cleanup() { lethd_cleanup; }

atf_init_test_cases()
{
	atf_add_test_case miner_runs_as_the_miner_user_in_its_own_group
	atf_add_test_case killed_miner_is_restarted_with_backoff
	atf_add_test_case crash_loop_ends_in_failed
	atf_add_test_case stop_kills_the_whole_group
	atf_add_test_case refused_binaries_say_why
	atf_add_test_case miner_survives_minerd_netd_keyd_kills
	atf_add_test_case killed_parent_takes_its_miners_and_leftovers_are_cleared
	atf_add_test_case shutdown_stops_the_miners
}
