#! @ATF_SH@
# Whole-daemon tests: real lethd processes as root, each test in its own
# directory with its own config, port and socket.

. "@abs_builddir@/regress/lib.subr"

atf_test_case all_four_processes_run_under_distinct_uids cleanup
all_four_processes_run_under_distinct_uids_head()
{
	atf_set descr "lethd runs as root and keyd, netd, minerd under their own non-zero uids"
	atf_set require.user root
}
all_four_processes_run_under_distinct_uids_body()
{
	lethd_setup
	lethd_start
	[ "$(proc_status "$PARENT" Uid)" = 0 ] || atf_fail "parent not root"
	seen=""
	for c in keyd netd minerd; do
		pid=$(child_pid $c) || atf_fail "no $c"
		uid=$(proc_status "$pid" Uid)
		[ "$uid" != 0 ] || atf_fail "$c runs as root"
		case " $seen " in *" $uid "*) atf_fail "$c shares uid $uid" ;; esac
		seen="$seen $uid"
		# real, effective, saved and fs uids all the same
		set -- $(awk '/^Uid:/ { print $2, $3, $4, $5 }' /proc/$pid/status)
		[ "$1" = "$2" ] && [ "$2" = "$3" ] && [ "$3" = "$4" ] || \
		    atf_fail "$c uids differ: $*"
		[ "$(proc_status "$pid" Groups)" = "$(proc_status "$pid" Gid)" ] || \
		    atf_fail "$c kept supplementary groups"
	done
	[ "$(proc_status "$(child_pid keyd)" Uid)" = "$(id -u _lethkey)" ] || atf_fail "keyd not _lethkey"
	[ "$(proc_status "$(child_pid netd)" Uid)" = "$(id -u _lethnet)" ] || atf_fail "netd not _lethnet"
	[ "$(proc_status "$(child_pid minerd)" Uid)" = "$(id -u _lethd)" ] || atf_fail "minerd not _lethd"
	check_no_restarts
}
all_four_processes_run_under_distinct_uids_cleanup() { lethd_cleanup; }

atf_test_case children_are_chrooted_and_filtered cleanup
children_are_chrooted_and_filtered_head()
{
	atf_set descr "keyd and netd are chrooted; every child has NoNewPrivs and more seccomp filters than the parent"
	atf_set require.user root
}
children_are_chrooted_and_filtered_body()
{
	lethd_setup
	lethd_start
	keyd=$(child_pid keyd); netd=$(child_pid netd); minerd=$(child_pid minerd)
	atf_check -o inline:"$BASE/keyd\n" readlink /proc/$keyd/root
	atf_check -o inline:"$BASE/empty\n" readlink /proc/$netd/root
	atf_check -o inline:"/\n" readlink /proc/$minerd/root
	pf=$(proc_status "$PARENT" Seccomp_filters)
	for pid in $keyd $netd $minerd; do
		[ "$(proc_status $pid NoNewPrivs)" = 1 ] || atf_fail "pid $pid: NoNewPrivs not 1"
		[ "$(proc_status $pid Seccomp)" = 2 ] || atf_fail "pid $pid: Seccomp not 2"
		f=$(proc_status $pid Seccomp_filters)
		[ "$f" -gt "$pf" ] || atf_fail "pid $pid: $f filters, parent $pf"
	done
	# keyd and netd are not dumpable: their /proc files belong to root
	for pid in $keyd $netd; do
		[ "$(stat -c %u /proc/$pid/mem)" = 0 ] || atf_fail "pid $pid dumpable"
	done
	check_no_restarts
}
children_are_chrooted_and_filtered_cleanup() { lethd_cleanup; }

atf_test_case commands_before_init_say_no_identity cleanup
commands_before_init_say_no_identity_head()
{
	atf_set descr "before node init the daemon runs and node info says how to make an identity"
	atf_set require.user root
}
commands_before_init_say_no_identity_body()
{
	lethd_setup
	lethd_start
	atf_check -s exit:1 -e inline:"lethctl: no node identity: run lethctl node init\n" \
	    "$LETHCTL" -s "$SOCK" node info
	atf_check -s exit:0 -o ignore "$LETHCTL" -s "$SOCK" status
	check_no_restarts
}
commands_before_init_say_no_identity_cleanup() { lethd_cleanup; }

atf_test_case node_init_makes_a_key_only_keyd_holds cleanup
node_init_makes_a_key_only_keyd_holds_head()
{
	atf_set descr "node init: key file 0600 keyd's, node.json, the seed only in keyd's memory, VmLck, socket 0660"
	atf_set require.user root
}
node_init_makes_a_key_only_keyd_holds_body()
{
	lethd_setup 'name "rig-test"'
	lethd_start
	atf_check -o save:init.out "$LETHCTL" -j -s "$SOCK" node init --name rig01 --role worker
	atf_check -o save:info.json "$LETHCTL" -j -s "$SOCK" node info
	python3 - info.json <<'EOP' || atf_fail "bad node info"
import json, sys, base64
d = json.load(open(sys.argv[1]))
assert d["version"] == 1, d
assert d["name"] == "rig01", d
assert d["role"] == "worker", d
pk = base64.b64decode(d["publicKey"])
assert len(pk) == 32
assert d["id"] == pk[:16].hex(), d
assert d["createdAt"] > 1600000000000
EOP
	key="$BASE/keyd/key/node.key"
	atf_check -o inline:"600 $(id -u _lethkey) 32\n" stat -c '%a %u %s' "$key"
	atf_check -o inline:"700 $(id -u _lethkey)\n" stat -c '%a %u' "$BASE/keyd/key"
	atf_check -o inline:"711 0\n" stat -c '%a %u' "$BASE/keyd"
	atf_check -o inline:"600 $(id -u _lethd)\n" stat -c '%a %u' "$BASE/state/node.json"
	atf_check -o inline:"660 0 $(getent group _lethctl | cut -d: -f3)\n" \
	    stat -c '%a %u %g' "$SOCK"
	# a second init is refused and changes nothing
	cp "$key" key.before
	atf_check -s exit:1 -e match:"node identity exists" \
	    "$LETHCTL" -s "$SOCK" node init
	cmp -s "$key" key.before || atf_fail "key changed"

	keyd=$(child_pid keyd)
	# ASan intercepts mlock(2) and makes it a no-op, and its shadow and
	# quarantine would blur the memory scan: neither check means
	# anything in a sanitizer build
	case "$(atf_config_get asan no)" in yes) check_no_restarts; return ;; esac
	[ "$(proc_status $keyd VmLck)" -gt 0 ] || atf_fail "keyd has no locked memory"
	"$MEMSCAN" $keyd "$key" >/dev/null; r=$?
	[ $r = 2 ] && atf_skip "no ptrace access to read process memory"
	[ $r = 0 ] || atf_fail "the seed is not in keyd's memory"
	for pid in $PARENT $(child_pid netd) $(child_pid minerd); do
		"$MEMSCAN" $pid "$key" >/dev/null; r=$?
		[ $r = 1 ] || atf_fail "pid $pid: seed found or memory unreadable ($r)"
	done
	check_no_restarts
}
node_init_makes_a_key_only_keyd_holds_cleanup() { lethd_cleanup; }

atf_test_case netd_holds_only_its_expected_fds cleanup
netd_holds_only_its_expected_fds_head()
{
	atf_set descr "netd's open fds: stdio, its pipes, its listener, the event loop; no file"
	atf_set require.user root
}
netd_holds_only_its_expected_fds_body()
{
	lethd_setup
	lethd_start
	netd=$(child_pid netd)
	ls -l /proc/$netd/fd | awk 'NR > 1 { print $9, $11 }' > fds
	cat fds
	# stdin and stdout are /dev/null; stderr is the parent's (under -d,
	# the log file), for a sanitizer's report or a dying word
	atf_check -o inline:"/dev/null\n" readlink /proc/$netd/fd/0
	atf_check -o inline:"/dev/null\n" readlink /proc/$netd/fd/1
	[ "$(readlink /proc/$netd/fd/2)" = "$(readlink /proc/$PARENT/fd/2)" ] || \
	    atf_fail "netd's stderr is not the parent's"
	# past those, no regular file, directory or device
	if awk '$1 > 2 && $2 !~ /^(socket:|anon_inode:|pipe:)/' fds | grep .; then
		atf_fail "netd holds a file"
	fi
	# sockets: the parent pipe, keyd's and minerd's pipes, 1 listener
	n=$(grep -c 'socket:' fds)
	[ "$n" = 4 ] || atf_fail "netd holds $n sockets, want 4"
	# libevent: one epoll fd and its internal signal pipe
	[ "$(grep -c 'anon_inode:\[eventpoll\]' fds)" = 1 ] || atf_fail "epoll fds"
	[ "$(grep -c 'pipe:' fds)" = 2 ] || atf_fail "pipes"
	[ "$(wc -l < fds)" = 10 ] || atf_fail "netd holds $(wc -l < fds) fds, want 10"
	check_no_restarts
}
netd_holds_only_its_expected_fds_cleanup() { lethd_cleanup; }

atf_test_case caller_without_group_is_refused cleanup
caller_without_group_is_refused_head()
{
	atf_set descr "a caller that is neither root nor in _lethctl gets 403, even on a 0666 socket"
	atf_set require.user root
}
caller_without_group_is_refused_body()
{
	SOCK_MODE=0666 lethd_setup
	lethd_start
	atf_check -o inline:"666\n" stat -c %a "$SOCK"
	atf_check -s exit:1 -e match:"permission denied" \
	    setpriv --reuid=nobody --regid=nogroup --clear-groups \
	    "$LETHCTL" -s "$SOCK" status
	grep -q "refused uid $(id -u nobody)" "$T/lethd.log" || atf_fail "no log line"
	# in the group, the same call works
	atf_check -o ignore setpriv --reuid=nobody --regid=nogroup \
	    --groups=$(getent group _lethctl | cut -d: -f3) \
	    "$LETHCTL" -s "$SOCK" status
	check_no_restarts
}
caller_without_group_is_refused_cleanup() { lethd_cleanup; }

atf_test_case killed_children_are_restarted cleanup
killed_children_are_restarted_head()
{
	atf_set descr "kill -9 of each child brings a new one and node info works again"
	atf_set require.user root
}
killed_children_are_restarted_body()
{
	lethd_setup
	lethd_start
	atf_check -o ignore "$LETHCTL" -s "$SOCK" node init
	for c in keyd netd minerd; do
		old=$(child_pid $c)
		kill -9 "$old"
		i=0
		while :; do
			new=$(child_pid $c) && [ "$new" != "$old" ] && break
			i=$((i + 1)); [ $i -gt 300 ] && atf_fail "$c not restarted"
			sleep 0.1
		done
		wait_for "$LETHCTL" -s "$SOCK" node info || atf_fail "node info after $c restart"
		grep -q "$c (pid $old) killed by signal 9" "$T/lethd.log" || \
		    atf_fail "no log line for $c's death"
	done
	atf_check -o match:"^id" "$LETHCTL" -s "$SOCK" node info
	for c in keyd netd minerd; do
		[ "$(status_field $c restarts)" = 1 ] || atf_fail "$c restarts"
	done
}
killed_children_are_restarted_cleanup() { lethd_cleanup; }

atf_test_case broken_config_keeps_lethd_from_starting cleanup
broken_config_keeps_lethd_from_starting_head()
{
	atf_set descr "a broken config: a clear file:line message and no daemon"
	atf_set require.user root
}
broken_config_keeps_lethd_from_starting_body()
{
	lethd_setup 'listen on 127.0.0.1 port 70000'
	atf_check -s exit:1 -e match:"lethd.conf:4: .*70000" \
	    "$LETHD" -d -f "$T/lethd.conf" -x "$BUILD"
	[ ! -e "$SOCK" ] || atf_fail "socket made"
	lethd_setup 'keyd user root'
	atf_check -s exit:1 -e match:"root" "$LETHD" -d -f "$T/lethd.conf" -x "$BUILD"
	lethd_setup 'netd user _lethd'
	atf_check -s exit:1 -e not-empty "$LETHD" -d -f "$T/lethd.conf" -x "$BUILD"
}
broken_config_keeps_lethd_from_starting_cleanup() { lethd_cleanup; }

atf_test_case second_instance_refuses_to_start cleanup
second_instance_refuses_to_start_head()
{
	atf_set descr "one instance per directory: a second lethd refuses"
	atf_set require.user root
}
second_instance_refuses_to_start_body()
{
	lethd_setup
	lethd_start
	atf_check -s exit:1 -e match:"another lethd \\(pid $PARENT\\) runs" \
	    "$LETHD" -d -f "$T/lethd.conf" -x "$BUILD"
	check_no_restarts
}
second_instance_refuses_to_start_cleanup() { lethd_cleanup; }

atf_test_case unsafe_directory_is_refused cleanup
unsafe_directory_is_refused_head()
{
	atf_set descr "a base directory writable by others, or a stray file in keyd's chroot, is refused"
	atf_set require.user root
}
unsafe_directory_is_refused_body()
{
	lethd_setup
	mkdir -p "$BASE"
	chmod 777 "$BASE"
	atf_check -s exit:1 -e match:"writable by group or others" \
	    "$LETHD" -d -f "$T/lethd.conf" -x "$BUILD"
	chmod 755 "$BASE"
	mkdir -p "$BASE/keyd"
	chmod 711 "$BASE/keyd"
	touch "$BASE/keyd/stray"
	atf_check -s exit:1 -e match:"stray" \
	    "$LETHD" -d -f "$T/lethd.conf" -x "$BUILD"
}
unsafe_directory_is_refused_cleanup() { lethd_cleanup; }

atf_test_case sigterm_stops_the_family cleanup
sigterm_stops_the_family_head()
{
	atf_set descr "SIGTERM stops every child and the parent, and removes the socket"
	atf_set require.user root
}
sigterm_stops_the_family_body()
{
	lethd_setup
	lethd_start
	pids="$PARENT $(child_pid keyd) $(child_pid netd) $(child_pid minerd)"
	kill "$PARENT"
	for p in $pids; do
		wait_for sh -c "! kill -0 $p" || atf_fail "pid $p still runs"
	done
	[ ! -e "$SOCK" ] || atf_fail "socket left behind"
}
sigterm_stops_the_family_cleanup() { lethd_cleanup; }

atf_test_case sighup_reloads_and_says_what_needs_a_restart cleanup
sighup_reloads_and_says_what_needs_a_restart_head()
{
	atf_set descr "SIGHUP applies what it can and names what needs a restart; a broken file is not applied"
	atf_set require.user root
}
sighup_reloads_and_says_what_needs_a_restart_body()
{
	lethd_setup
	lethd_start
	echo 'listen on 127.0.0.2 port 0' >> "$T/lethd.conf"
	kill -HUP "$PARENT"
	wait_for grep -q "listeners changed: restart lethd" "$T/lethd.log" || \
	    atf_fail "no restart notice"
	# minerd sizes its history database at start only
	echo 'history size 100' >> "$T/lethd.conf"
	kill -HUP "$PARENT"
	wait_for grep -q "history changed: restart lethd" "$T/lethd.log" || \
	    atf_fail "no restart notice for history"
	grep "reloaded:" "$T/lethd.log" | grep -q "history" && \
	    atf_fail "history said applied on a reload"
	echo 'bogus line' >> "$T/lethd.conf"
	kill -HUP "$PARENT"
	wait_for grep -q "reload failed" "$T/lethd.log" || atf_fail "no failure line"
	atf_check -o ignore "$LETHCTL" -s "$SOCK" status
	check_no_restarts
}
sighup_reloads_and_says_what_needs_a_restart_cleanup() { lethd_cleanup; }

atf_test_case offline_rekey_keeps_the_old_key cleanup
offline_rekey_keeps_the_old_key_head()
{
	atf_set descr "lethd -K refuses while running; offline it keeps the old key aside and makes a new one"
	atf_set require.user root
}
offline_rekey_keeps_the_old_key_body()
{
	lethd_setup
	lethd_start
	atf_check -o ignore "$LETHCTL" -s "$SOCK" node init
	old=$("$LETHCTL" -j -s "$SOCK" node info | python3 -c 'import json,sys; print(json.load(sys.stdin)["publicKey"])')
	atf_check -s exit:1 -e match:"stop it first" \
	    "$LETHD" -K -f "$T/lethd.conf" -x "$BUILD"
	cp "$BASE/keyd/key/node.key" old.key
	kill "$PARENT"
	wait_for sh -c "! kill -0 $PARENT"
	atf_check -o match:"new node key" "$LETHD" -K -f "$T/lethd.conf" -x "$BUILD"
	oldfile=$(ls "$BASE"/keyd/key/node.key.old-*)
	cmp -s "$oldfile" old.key || atf_fail "old key not kept"
	atf_check -o inline:"600 $(id -u _lethkey)\n" stat -c '%a %u' "$BASE/keyd/key/node.key"
	lethd_start
	new=$("$LETHCTL" -j -s "$SOCK" node info | python3 -c 'import json,sys; print(json.load(sys.stdin)["publicKey"])')
	[ -n "$new" ] && [ "$new" != "$old" ] || atf_fail "key not replaced ($old / $new)"
	check_no_restarts
}
offline_rekey_keeps_the_old_key_cleanup() { lethd_cleanup; }

atf_init_test_cases()
{
	atf_add_test_case all_four_processes_run_under_distinct_uids
	atf_add_test_case children_are_chrooted_and_filtered
	atf_add_test_case commands_before_init_say_no_identity
	atf_add_test_case node_init_makes_a_key_only_keyd_holds
	atf_add_test_case netd_holds_only_its_expected_fds
	atf_add_test_case caller_without_group_is_refused
	atf_add_test_case killed_children_are_restarted
	atf_add_test_case broken_config_keeps_lethd_from_starting
	atf_add_test_case second_instance_refuses_to_start
	atf_add_test_case unsafe_directory_is_refused
	atf_add_test_case sigterm_stops_the_family
	atf_add_test_case sighup_reloads_and_says_what_needs_a_restart
	atf_add_test_case offline_rekey_keeps_the_old_key
}
