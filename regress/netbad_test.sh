#! @ATF_SH@
# Bad input against a running netd: a worker W paired with a controller
# C, and regress/netprobe.py doing one bad thing per connection.  Each
# probe must end in a close of that connection and one log line on W
# naming the address and the reason, while C's session keeps working
# and no child restarts.

. "@abs_builddir@/regress/lib.subr"

PROBE="@abs_srcdir@/regress/netprobe.py"

# The first python3 with python3-nacl (pyenv's may not have it).
find_python()
{
	for p in python3 /usr/bin/python3; do
		if command -v "$p" >/dev/null 2>&1 &&
		    "$p" -c 'import nacl.bindings' 2>/dev/null; then
			echo "$p"
			return 0
		fi
	done
	return 1
}

# worker_and_controller [W's extra config lines]: W and C, paired, with
# a session up; sets WPORT, WID, KEY (the prober's key file), PY
worker_and_controller()
{
	PY=$(find_python) || atf_skip "python3 -c 'import nacl.bindings'" \
	    "fails: install python3-nacl"
	node_setup W "$@"
	node_start W
	node_setup C
	node_start C
	ctl W node init --name worker --role worker >/dev/null ||
	    atf_fail "node init on W"
	ctl C node init --name controller --role controller >/dev/null ||
	    atf_fail "node init on C"
	WPORT=$(node_port W)
	WID=$(node_json W id)
	ctl W node pair --role operator --address "127.0.0.1:$WPORT" \
	    > token.out || atf_fail "node pair on W"
	ctl C peer add "$(head -n 1 token.out)" --name w1 >/dev/null ||
	    atf_fail "peer add on C"
	i=0
	until ctl C peer ping "$WID" >/dev/null 2>&1; do
		i=$((i + 1))
		[ $i -gt 100 ] &&
		    atf_fail "C's ping never worked: $(cat "$(node_log C)")"
		sleep 0.1
	done
	KEY=$PWD/probe.key
	WLOG=$(node_log W)
}

# npeers NAME: how many entries `peer list' shows on node NAME
npeers()
{
	ctl "$1" -j peer list | "$PY" -c \
	    'import json,sys; print(len(json.load(sys.stdin)["peers"]))'
}

# allow_prober: W lets the prober's key in as an observer; sets PID
allow_prober()
{
	PK=$("$PY" "$PROBE" -k "$KEY" pubkey) || atf_fail "no prober key"
	PID=$("$PY" -c 'import base64, sys
print(base64.b64decode(sys.argv[1])[:16].hex())' "$PK")
	ctl W peer allow "$PK" --role observer >/dev/null ||
	    atf_fail "peer allow on W"
	[ "$(peer_field W "$PID" access)" = observer ] ||
	    atf_fail "the prober is not allowed as an observer on W"
}

# probe NAME [netprobe options]: one probe against W that must pass;
# sets ADDR, the (last) local address it used
probe()
{
	_p=$1
	shift
	if ! "$PY" "$PROBE" -p "$WPORT" -k "$KEY" "$@" "$_p" \
	    > probe.out 2> probe.err; then
		atf_fail "probe $_p: $(cat probe.err)" \
		    "[$(tr '\n' ' ' < probe.out)]"
	fi
	ADDR=$(sed -n 's/^local //p' probe.out | tail -n 1)
	[ -n "$ADDR" ] || atf_fail "probe $_p printed no address"
}

# addr_re ADDR: ADDR as an extended regex matching it and no longer port
addr_re()
{
	printf '%s([^0-9]|$)' "$(printf '%s' "$1" | sed 's/\./\\./g')"
}

# logged ADDR REASON: W's log has exactly one line about ADDR besides
# its arrival and its session coming up, and that line gives REASON
# (an extended regex)
logged()
{
	_re=$(addr_re "$1")
	i=0
	until grep -E "$_re" "$WLOG" | grep -Eq "$2"; do
		i=$((i + 1))
		[ $i -gt 50 ] && atf_fail "no line on W for $1 matching" \
		    "'$2': $(grep -E "$_re" "$WLOG")"
		sleep 0.1
	done
	grep -E "$_re" "$WLOG" | grep -Ev "$1: connection\$" |
	    grep -Ev "$1: session with [^ ]+ \([^)]*\)\$" |
	    grep -Ev "up at $1\$" > lines.out
	n=$(wc -l < lines.out)
	[ "$n" = 1 ] ||
	    atf_fail "$n lines on W for $1, want 1: $(cat lines.out)"
	grep -Eq "$2" lines.out ||
	    atf_fail "the line for $1 is not '$2': $(cat lines.out)"
}

# still_good: C's session to W answers a signed ping
still_good()
{
	ctl C peer ping "$WID" >/dev/null 2>ping.err ||
	    atf_fail "C's ping failed after $1: $(cat ping.err)"
}

# bad PROBE REASON [options]: the probe, its one log line, C still good
bad()
{
	_b=$1
	_r=$2
	shift 2
	probe "$_b" "$@"
	logged "$ADDR" "$_r"
	still_good "$_b"
}

# no_restarts: neither node restarted a child (C's netd excepted when
# the test killed it)
no_restarts()
{
	T=$W_T SOCK=$W_SOCK check_no_restarts
	T=$C_T SOCK=$C_SOCK check_no_restarts "$@"
}

atf_test_case malformed_upgrades_are_closed_and_logged cleanup
malformed_upgrades_are_closed_and_logged_head()
{
	atf_set descr "plain HTTP, a garbage request line, no or a bad key, oversized headers, a wrong path, a stalled upgrade: closed, one line each"
	atf_set require.user root
}
malformed_upgrades_are_closed_and_logged_body()
{
	worker_and_controller "handshake timeout 2"
	bad http-get ": no upgrade \(1006\)$"
	bad garbage ": malformed request \(1006\)$"
	bad no-key ": bad key \(1006\)$"
	bad bad-key ": bad key \(1006\)$"
	bad big-header ": header too large \(1006\)$"
	bad wrong-path ": wrong path \(1006\)$"
	# slowloris: half a request, then silence past the 2 s timeout
	bad slowloris ": (timeout \(1006\)|handshake timed out after 2 s)$" -t 6
	sed -n 's/^ok slowloris: closed.* after \([0-9]*\)\..*/\1/p' \
	    probe.out > secs
	[ "$(cat secs)" -ge 1 ] && [ "$(cat secs)" -le 4 ] ||
	    atf_fail "slowloris closed after $(cat secs) s, want about 2"
	no_restarts
}
malformed_upgrades_are_closed_and_logged_cleanup() { lethd_cleanup; }

atf_test_case bad_frames_are_closed_and_logged cleanup
bad_frames_are_closed_and_logged_head()
{
	atf_set descr "unmasked, reserved opcode, RSV1, fragmented or oversized control, text, over max message: closed with its code, one line each"
	atf_set require.user root
}
bad_frames_are_closed_and_logged_body()
{
	worker_and_controller "max message 4096"
	bad unmasked ": protocol error \(1002\)$"
	bad reserved-opcode ": protocol error \(1002\)$"
	bad rsv1 ": protocol error \(1002\)$"
	bad fragmented-ping ": protocol error \(1002\)$"
	bad big-ping ": protocol error \(1002\)$"
	bad text ": text frame \(1003\)$"
	bad big-message ": message too big \(1009\)$" --size 16384
	no_restarts
}
bad_frames_are_closed_and_logged_cleanup() { lethd_cleanup; }

atf_test_case bad_handshakes_are_refused_and_logged cleanup
bad_handshakes_are_refused_and_logged_head()
{
	atf_set descr "HS3 with a bad signature, a key nobody allowed, HS1 twice, a captured HS1+HS3 replayed: refused, one line each"
	atf_set require.user root
}
bad_handshakes_are_refused_and_logged_body()
{
	worker_and_controller
	allow_prober
	before=$(npeers W)
	bad bad-signature ": handshake: bad handshake signature$"
	# the line names the address after the key
	bad unknown-key "unknown key [^ ]+ from [0-9.:]+: refused$"
	bad replay-hs1 ": handshake: unexpected frame type 1$"
	bad replay-hs3 ": handshake: handshake decryption failed$"
	# nothing was registered on the way
	[ "$(npeers W)" = "$before" ] ||
	    atf_fail "W registered a peer: $(ctl W peer list)"
	no_restarts
}
bad_handshakes_are_refused_and_logged_cleanup() { lethd_cleanup; }

atf_test_case bad_records_close_the_session cleanup
bad_records_close_the_session_head()
{
	atf_set descr "on an allowed session: a record with one bit flipped, a record replayed, records out of order: closed 1008, one line each"
	atf_set require.user root
}
bad_records_close_the_session_body()
{
	worker_and_controller
	allow_prober
	# first a good session: Python and C agree on every byte
	probe ping
	still_good ping
	bad flip-bit ": record: record authentication failed$"
	bad replay-record ": record: record replayed or out of order$"
	bad out-of-order ": record: record counter gap$"
	no_restarts
}
bad_records_close_the_session_cleanup() { lethd_cleanup; }

# msg_refused REASON: W's minerd logged the refusal, once
msg_refused()
{
	_re="minerd: net: message .*from $PID refused: $1\$"
	i=0
	until grep -Eq "$_re" "$WLOG"; do
		i=$((i + 1))
		[ $i -gt 50 ] && atf_fail "W did not log '$1'"
		sleep 0.1
	done
	n=$(grep -Ec "$_re" "$WLOG")
	[ "$n" = 1 ] || atf_fail "$n lines '$1' on W, want 1"
}

atf_test_case bad_signed_messages_are_refused_and_logged cleanup
bad_signed_messages_are_refused_and_logged_head()
{
	atf_set descr "over an allowed session: a ping gets a pong; a wrong to, a stale ts, a replayed id are refused, logged, unanswered"
	atf_set require.user root
}
bad_signed_messages_are_refused_and_logged_body()
{
	worker_and_controller
	allow_prober
	probe ping
	grep -q "^ok ping: pong from $WID$" probe.out ||
	    atf_fail "no pong: $(cat probe.out)"
	# each: the refused message, then a good ping whose pong must be
	# the first answer (so the refused one got none)
	probe wrong-to
	msg_refused "addressed to another node"
	still_good wrong-to
	probe stale-ts
	msg_refused "timestamp outside the window"
	still_good stale-ts
	probe replay-id
	msg_refused "replayed id"
	still_good replay-id
	# and refusals changed nothing in the registry
	[ "$(peer_field W "$PID" access)" = observer ] ||
	    atf_fail "the prober lost its place on W"
	no_restarts
}
bad_signed_messages_are_refused_and_logged_cleanup() { lethd_cleanup; }

atf_test_case limits_hold_and_a_known_controller_still_gets_in cleanup
limits_hold_and_a_known_controller_still_gets_in_head()
{
	atf_set descr "max connections 8: 20 connections, the excess closed and logged; a handshake flood from 127.0.0.2: refused, and C still pings and reconnects"
	atf_set require.user root
}
limits_hold_and_a_known_controller_still_gets_in_body()
{
	worker_and_controller "max connections 8" "handshakes per address 2"
	# 20 connections from 20 addresses in 20 subnets (so that only
	# max connections binds): C's session and 7 more fit
	"$PY" "$PROBE" -p "$WPORT" --count 20 --min 12 --hold 3 -b spread \
	    conns > conns.out 2> conns.err &
	echo $! > conns.pid
	i=0
	until grep -q '^holding' conns.out; do
		i=$((i + 1))
		kill -0 "$(cat conns.pid)" 2>/dev/null ||
		    atf_fail "conns: $(cat conns.err) $(cat conns.out)"
		[ $i -gt 100 ] && atf_fail "conns never held"
		sleep 0.1
	done
	still_good "20 connections"
	wait "$(cat conns.pid)" || atf_fail "conns: $(cat conns.err)"
	grep -q "over max connections (8): closed" "$WLOG" ||
	    atf_fail "no 'over max connections' line"
	# one line at most for each (netd logs a flood's refusals once a
	# second, with a count of the others)
	for a in $(sed -n 's/^local //p' conns.out); do
		grep -E "$(addr_re "$a")" "$WLOG" |
		    grep -Ev ": connection\$" > lines.out
		n=$(wc -l < lines.out)
		[ "$n" -le 1 ] || atf_fail "$n lines for $a: $(cat lines.out)"
	done

	# a flood of half-open connections from 127.0.0.2, 50 at a time,
	# each one the server closes opened again, until flood.stop exists
	rm -f flood.stop
	"$PY" "$PROBE" -p "$WPORT" -b 127.0.0.2 --count 50 --min 40 \
	    --hold 100 --stop "$PWD/flood.stop" flood > flood.out 2> flood.err &
	echo $! > flood.pid
	i=0
	until grep -q '^flooding' flood.out; do
		i=$((i + 1))
		kill -0 "$(cat flood.pid)" 2>/dev/null ||
		    atf_fail "flood: $(cat flood.err) $(cat flood.out)"
		[ $i -gt 100 ] && atf_fail "the flood never started"
		sleep 0.1
	done
	still_good "the flood"
	grep -q "127\.0\.0\.2:[0-9]*: over 2 handshakes from its address:" \
	    "$WLOG" || atf_fail "no per-address refusal logged"
	# C loses its session (its netd dies) and dials in again through
	# the flood
	PARENT=$C_PARENT
	kill -9 "$(child_pid netd)" || atf_fail "no netd on C"
	sleep 1
	i=0
	until ctl C peer ping "$WID" >/dev/null 2>&1; do
		i=$((i + 1))
		[ $i -gt 80 ] &&
		    atf_fail "C did not get back in during the flood"
		sleep 0.1
	done
	touch flood.stop
	wait "$(cat flood.pid)" || atf_fail "flood: $(cat flood.err)"
	grep -q "^ok flood: .*, asked to stop$" flood.out ||
	    atf_fail "the flood ended before C got back in:" \
	    "$(grep -v '^local' flood.out)"
	still_good "the flood ended"
	no_restarts netd
}
limits_hold_and_a_known_controller_still_gets_in_cleanup()
{
	for f in conns.pid flood.pid; do
		[ -f "$f" ] && kill "$(cat "$f")" 2>/dev/null
	done
	lethd_cleanup
}

atf_init_test_cases()
{
	atf_add_test_case malformed_upgrades_are_closed_and_logged
	atf_add_test_case bad_frames_are_closed_and_logged
	atf_add_test_case bad_handshakes_are_refused_and_logged
	atf_add_test_case bad_records_close_the_session
	atf_add_test_case bad_signed_messages_are_refused_and_logged
	atf_add_test_case limits_hold_and_a_known_controller_still_gets_in
}
