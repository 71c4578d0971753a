#! @ATF_SH@
# Fleet operations end to end: a controller C and two real workers on
# loopback, W1 allowing C as operator and W2 as observer, each with a
# test miner; lethctl remote ... on C, checked against what the
# workers really run.

. "@abs_builddir@/regress/lib.subr"

TESTMINER="$BUILD/regress/testminer"

# wait_connected NODE ID: the session from NODE to peer ID is up
wait_connected()
{
	i=0
	until [ "$(peer_field "$1" "$2" connected)" = True ]; do
		i=$((i + 1)); [ $i -gt 300 ] && atf_fail "$2 never connected to $1"
		sleep 0.1
	done
}

# worker NAME ROLE: a worker with the test miner and a profile p1,
# paired with C (which must be up) as ROLE; sets NAME_ID, NAME_PORT
worker()
{
	node_setup "$1" 'miner poll interval 1'
	node_start "$1"
	eval "_b=\$${1}_BASE"
	install -o root -g root -m 0755 "$TESTMINER" "$_b/miners/xmrig"
	atf_check -o ignore "$LETHCTL" -s "$(eval echo \$${1}_SOCK)" node init --name "$1" --role worker
	atf_check -o ignore "$LETHCTL" -s "$(eval echo \$${1}_SOCK)" profile add p1 --type xmrig \
	    --binary xmrig --pool stratum+tcp://127.0.0.1:3333 --user wallet \
	    --pass s3cretpass --algo rx/0
	_port=$(node_port "$1")
	_id=$(node_json "$1" id)
	eval "${1}_ID=$_id ${1}_PORT=$_port"
	atf_check -o save:token.out "$LETHCTL" -s "$(eval echo \$${1}_SOCK)" node pair \
	    --role "$2" --address "127.0.0.1:$_port"
	atf_check -o ignore "$LETHCTL" -s "$C_SOCK" peer add "$(head -n 1 token.out)" \
	    --name "$(echo "$1" | tr 'A-Z' 'a-z')"
	wait_connected C "$_id"
}

# fleet: C, W1 (operator) and W2 (observer), each worker running m1
fleet()
{
	node_setup C 'remote timeout 2'
	node_start C
	atf_check -o ignore "$LETHCTL" -s "$C_SOCK" node init --name ctl --role controller
	CID=$(node_json C id)
	worker W1 operator
	worker W2 observer
	atf_check -o ignore "$LETHCTL" -s "$W1_SOCK" miner start p1 --name m1
	atf_check -o ignore "$LETHCTL" -s "$W2_SOCK" miner start p1 --name m1
}

# fleet_field EXPR: a Python expression over `remote status --all -j' (d)
fleet_field()
{
	"$LETHCTL" -s "$C_SOCK" -j remote status --all | python3 -c '
import json, sys
d = json.load(sys.stdin)
print(eval(sys.argv[1]))' "$1"
}

# wait_hashrate: both workers report m1 with a 10s hashrate
wait_hashrate()
{
	i=0
	until [ "$(fleet_field 'sum(1 for p in d["peers"] if p["ok"] for m in p["stats"]["miners"] if m["hashrate"]["10s"])' 2>/dev/null)" = 2 ]; do
		i=$((i + 1)); [ $i -gt 300 ] && atf_fail "no hashrate from both workers: $("$LETHCTL" -s "$C_SOCK" -j remote status --all)"
		sleep 0.1
	done
}

# miner_pid NODE NAME: the pid of a worker's miner, or nothing
miner_pid()
{
	ctl "$1" -j miner list | python3 -c '
import json, sys
for m in json.load(sys.stdin)["miners"]:
    if m["name"] == sys.argv[1] and m.get("pid"):
        print(m["pid"])' "$2"
}

atf_test_case status_shows_every_worker_and_the_fleet_total cleanup
status_shows_every_worker_and_the_fleet_total_head()
{
	atf_set descr "remote status --all: each worker's miners with hashrate and report age, the total; --tag, a peer, ping, logs and profiles"
	atf_set require.user root
}
status_shows_every_worker_and_the_fleet_total_body()
{
	fleet
	wait_hashrate
	atf_check -o save:status.out "$LETHCTL" -s "$C_SOCK" remote status --all
	grep -Eq '^w1 +m1 +running +[0-9.]+ [kMG]?H/s' status.out || atf_fail "no w1 row: $(cat status.out)"
	grep -Eq '^w2 +m1 +running +[0-9.]+ [kMG]?H/s' status.out || atf_fail "no w2 row: $(cat status.out)"
	grep -Eq 'ago$|just now$' status.out || atf_fail "no report age: $(cat status.out)"
	grep -Eq '^total: [0-9.]+ [kMG]?H/s \(10s\).*2 of 2 workers answered, 0 timed out' status.out || \
	    atf_fail "no total: $(cat status.out)"
	# the total is the sum of the workers' values
	[ "$(fleet_field 'abs(d["totalHashrate"]["10s"] - sum(m["hashrate"]["10s"] or 0 for p in d["peers"] for m in p["stats"]["miners"])) < 1e-6')" = True ] || \
	    atf_fail "total is not the sum"
	[ "$(fleet_field 'd["asked"], d["answered"], d["timedOut"]')" = "(2, 2, 0)" ] || atf_fail "counts"
	[ "$(fleet_field 'sorted(p["status"] for p in d["peers"])')" = "['ok', 'ok']" ] || atf_fail "statuses"
	[ "$(fleet_field 'all(isinstance(p["rttMs"], float) for p in d["peers"])')" = True ] || atf_fail "rttMs"
	# --tag and a named peer select
	atf_check -o ignore "$LETHCTL" -s "$C_SOCK" peer tag "$W1_ID" rack-a gpu
	atf_check -s exit:0 -o save:tag.out "$LETHCTL" -s "$C_SOCK" remote status --tag rack-a
	grep -q '^w1 ' tag.out || atf_fail "--tag lost w1"
	grep -q '^w2 ' tag.out && atf_fail "--tag took w2"
	grep -q '1 of 1 workers' tag.out || atf_fail "--tag count: $(cat tag.out)"
	atf_check -o save:one.out "$LETHCTL" -s "$C_SOCK" remote status w2
	grep -q '^w2 ' one.out || atf_fail "peer by name"
	grep -q '^w1 ' one.out && atf_fail "peer by name took w1"
	atf_check -o match:"\"id\": *\"$W2_ID\"" -o match:'"ok": *true' \
	    "$LETHCTL" -s "$C_SOCK" -j remote status "$W2_ID"
	# ping, logs and profiles, from an operator and an observer alike
	atf_check -o match:"^$W1_ID: [0-9.]+ ms" "$LETHCTL" -s "$C_SOCK" remote ping "$W1_ID"
	atf_check -o match:"^$W2_ID: [0-9.]+ ms" "$LETHCTL" -s "$C_SOCK" remote ping w2
	for w in "$W1_ID" "$W2_ID"; do
		atf_check -o not-empty "$LETHCTL" -s "$C_SOCK" remote logs "$w" m1 -n 5
		atf_check -o save:prof.out "$LETHCTL" -s "$C_SOCK" -j remote profiles "$w"
		grep -q '"p1"' prof.out || atf_fail "no profile p1 from $w"
		grep -q "\"peer\": *\"$w\"" prof.out || atf_fail "no peer in the answer"
		grep -q s3cretpass prof.out && atf_fail "the pool password left $w"
		atf_check -o match:'^p1 ' "$LETHCTL" -s "$C_SOCK" remote profiles "$w"
	done
	atf_check -s exit:1 -e match:"not found" "$LETHCTL" -s "$C_SOCK" remote logs "$W1_ID" nosuch
	for n in C W1 W2; do
		eval "T=\$${n}_T SOCK=\$${n}_SOCK"
		check_no_restarts
	done
}
status_shows_every_worker_and_the_fleet_total_cleanup() { lethd_cleanup; }

atf_test_case an_operator_starts_and_stops_an_observer_is_refused cleanup
an_operator_starts_and_stops_an_observer_is_refused_head()
{
	atf_set descr "remote start on the operator's worker runs a miner as the miner user, remote stop kills it, also one named with '_' first; the observer's worker refuses both and logs it"
	atf_set require.user root
}
an_operator_starts_and_stops_an_observer_is_refused_body()
{
	fleet
	atf_check -o match:"^$W1_ID: m2: start ok, running" "$LETHCTL" -s "$C_SOCK" remote start "$W1_ID" p1 -n m2
	pid=$(miner_pid W1 m2)
	[ -n "$pid" ] && kill -0 "$pid" || atf_fail "m2 is not running on W1"
	[ "$(proc_status "$pid" Uid)" = "$(id -u _lethminer)" ] || atf_fail "m2 is not the miner user's"
	atf_check -o match:"^$W1_ID: m2: restart ok, running" "$LETHCTL" -s "$C_SOCK" remote restart "$W1_ID" m2
	pid2=$(miner_pid W1 m2)
	[ -n "$pid2" ] && [ "$pid2" != "$pid" ] || atf_fail "m2 was not restarted ($pid, $pid2)"
	atf_check -o match:"^$W1_ID: m2: stop ok" "$LETHCTL" -s "$C_SOCK" remote stop "$W1_ID" m2
	i=0
	while kill -0 "$pid2" 2>/dev/null; do
		i=$((i + 1)); [ $i -gt 100 ] && atf_fail "m2 still runs after remote stop"
		sleep 0.1
	done
	[ -z "$(miner_pid W1 m2)" ] || atf_fail "W1 still lists m2 with a pid"

	# the observer's worker: refused, logged, nothing changes
	atf_check -s exit:1 -e match:"unauthorised" "$LETHCTL" -s "$C_SOCK" remote start "$W2_ID" p1 -n m2
	atf_check -s exit:1 -e match:"unauthorised" "$LETHCTL" -s "$C_SOCK" remote stop "$W2_ID" m1
	[ -z "$(miner_pid W2 m2)" ] || atf_fail "W2 started m2 for an observer"
	pid=$(miner_pid W2 m1)
	[ -n "$pid" ] && kill -0 "$pid" || atf_fail "W2 stopped m1 for an observer"
	grep -q "start_miner from $CID: refused (1002)" "$(node_log W2)" || atf_fail "no refusal on W2"
	grep -q "stop_miner from $CID: refused (1002)" "$(node_log W2)" || atf_fail "no refusal on W2"

	# --tag calls each worker carrying the tag: one line each, exit 1
	# when any failed
	atf_check -o ignore "$LETHCTL" -s "$C_SOCK" peer tag "$W1_ID" all
	atf_check -o ignore "$LETHCTL" -s "$C_SOCK" peer tag "$W2_ID" all
	atf_check -s exit:1 -o save:tag.out "$LETHCTL" -s "$C_SOCK" remote start --tag all p1 -n m3
	grep -q "^$W1_ID: m3: start ok" tag.out || atf_fail "no start on W1: $(cat tag.out)"
	grep -q "^$W2_ID: failed: .*unauthorised" tag.out || atf_fail "no refusal from W2: $(cat tag.out)"
	[ -n "$(miner_pid W1 m3)" ] || atf_fail "m3 not on W1"
	[ -z "$(miner_pid W2 m3)" ] || atf_fail "m3 on W2"
	atf_check -s exit:1 -o match:"^$W1_ID: m3: stop ok" "$LETHCTL" -s "$C_SOCK" remote stop --tag all m3

	# one rule for names: what a worker starts locally ('_' first) a
	# controller stops; a leading '.' is refused on both sides
	atf_check -o ignore "$LETHCTL" -s "$W1_SOCK" miner start p1 --name _x
	[ -n "$(miner_pid W1 _x)" ] || atf_fail "_x not on W1"
	atf_check -o match:"^$W1_ID: _x: stop ok" "$LETHCTL" -s "$C_SOCK" remote stop "$W1_ID" _x
	[ -z "$(miner_pid W1 _x)" ] || atf_fail "W1 still runs _x"
	atf_check -s exit:1 -e match:"bad miner .x" "$LETHCTL" -s "$C_SOCK" remote stop "$W1_ID" .x
	atf_check -s exit:1 -e match:"bad name .x" "$LETHCTL" -s "$W1_SOCK" miner start p1 --name .x
	for n in C W1 W2; do
		eval "T=\$${n}_T SOCK=\$${n}_SOCK"
		check_no_restarts
	done
}
an_operator_starts_and_stops_an_observer_is_refused_cleanup() { lethd_cleanup; }

atf_test_case a_gone_or_denying_worker_is_marked_and_refuses cleanup
a_gone_or_denying_worker_is_marked_and_refuses_head()
{
	atf_set descr "a stopped worker is marked offline or timed out while the other answers, after the remote timeout that a reload set; a worker that denies C refuses"
	atf_set require.user root
}
a_gone_or_denying_worker_is_marked_and_refuses_body()
{
	fleet
	wait_hashrate
	# a client that leaves before the answers are in: the call is
	# dropped at once, not when the worker's time runs out
	mp=$(PARENT=$W2_PARENT child_pid minerd)
	kill -STOP "$mp"
	curl -s --max-time 1 --unix-socket "$C_SOCK" http://x/api/v1/remote/stats >/dev/null
	kill -CONT "$mp"
	grep -q "remote: the client went away: 1 of 2" "$(node_log C)" || \
	    atf_fail "the fan-out outlived its client"
	# a ping is a fan-out too: the remote timeout (2 s), not 10 s,
	# and dropped when its client leaves
	kill -STOP "$mp"
	start=$(date +%s)
	atf_check -s exit:1 -e match:"did not answer" \
	    "$LETHCTL" -s "$C_SOCK" remote ping "$W2_ID"
	[ $(($(date +%s) - start)) -le 4 ] || atf_fail "ping ignored the remote timeout"
	curl -s --max-time 1 -X POST --unix-socket "$C_SOCK" \
	    "http://x/api/v1/remote/$W2_ID/ping" >/dev/null
	kill -CONT "$mp"
	grep -q "remote: the client went away: 1 of 1" "$(node_log C)" || \
	    atf_fail "the ping outlived its client"
	# one line a fan-out, none a peer
	grep -Eq "remote: ping to 1 peer in [0-9]+ ms: 0 answered, 0 refused or failed, 1 timed out, 0 offline" \
	    "$(node_log C)" || atf_fail "no summary line for the ping"
	# the timeout logged is the one that ran
	grep -q "did not answer ping in 2000 ms" "$(node_log C)" || \
	    atf_fail "the ping's timeout logged wrong"
	# a reload changes it for the next call
	sed -i 's/^remote timeout 2$/remote timeout 1/' "$C_T/lethd.conf"
	kill -HUP "$C_PARENT"
	wait_for grep -q "remote timeouts applied" "$(node_log C)" || \
	    atf_fail "no reload line on C"
	# (the parent's line may come before minerd read the new values)
	kill -STOP "$mp"
	i=0
	until grep -q "did not answer ping in 1000 ms" "$(node_log C)"; do
		i=$((i + 1))
		[ $i -gt 3 ] && atf_fail "the reloaded remote timeout was not used"
		"$LETHCTL" -s "$C_SOCK" remote ping "$W2_ID" >/dev/null 2>&1
	done
	kill -CONT "$mp"
	# W2's daemon dies: W1 still answers, W2 is marked
	kill -9 "$W2_PARENT" "$(PARENT=$W2_PARENT child_pid minerd)" \
	    "$(PARENT=$W2_PARENT child_pid netd)" "$(PARENT=$W2_PARENT child_pid keyd)"
	start=$(date +%s)
	atf_check -o save:status.out "$LETHCTL" -s "$C_SOCK" remote status --all
	[ $(($(date +%s) - start)) -le 5 ] || atf_fail "status waited too long"
	grep -Eq '^w1 +m1 +running' status.out || atf_fail "w1 lost: $(cat status.out)"
	grep -Eq '^w2 +(offline|timed out)' status.out || atf_fail "w2 not marked: $(cat status.out)"
	grep -q '1 of 2 workers answered' status.out || atf_fail "counts: $(cat status.out)"
	grep -Eq "remote: get_stats to 2 peers in [0-9]+ ms: 1 answered" "$(node_log C)" || \
	    atf_fail "no summary line for the fleet call"
	[ "$(fleet_field '[p["status"] for p in d["peers"] if p["name"] == "w2"][0] in ("offline", "timeout")')" = True ] || \
	    atf_fail "w2 status"
	atf_check -s exit:1 -e match:"not connected|did not answer" \
	    "$LETHCTL" -s "$C_SOCK" remote start "$W2_ID" p1 -n m9

	# W1 denies C: the session ends and C can command nothing
	atf_check -o ignore "$LETHCTL" -s "$W1_SOCK" peer deny "$CID"
	atf_check -s exit:1 -e not-empty "$LETHCTL" -s "$C_SOCK" remote start "$W1_ID" p1 -n m9
	[ -z "$(miner_pid W1 m9)" ] || atf_fail "W1 started m9 for a denied controller"
	atf_check -o save:status.out "$LETHCTL" -s "$C_SOCK" remote status --all
	grep -Eq '^w1 +(offline|timed out|refused|error)' status.out || atf_fail "w1 not marked: $(cat status.out)"
	grep -q '0 of 2 workers answered' status.out || atf_fail "counts: $(cat status.out)"
	T=$C_T SOCK=$C_SOCK check_no_restarts
}
a_gone_or_denying_worker_is_marked_and_refuses_cleanup() { lethd_cleanup; }

atf_test_case tags_are_kept_across_a_restart cleanup
tags_are_kept_across_a_restart_head()
{
	atf_set descr "peer tag and untag change peers.json at once, survive a restart, show in peer list; bad tags are refused"
	atf_set require.user root
}
tags_are_kept_across_a_restart_body()
{
	node_setup C
	node_start C
	atf_check -o ignore "$LETHCTL" -s "$C_SOCK" node init
	PK=$(python3 -c 'import base64, os; print(base64.b64encode(os.urandom(32)).decode())')
	atf_check -o save:add.out "$LETHCTL" -s "$C_SOCK" -j peer add 127.0.0.1:9 --key "$PK" --name far
	ID=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["id"])' add.out)
	atf_check -o match:"tags a, b\+c" "$LETHCTL" -s "$C_SOCK" peer tag "$ID" a b+c
	atf_check -o match:"tags a, b\+c, d" "$LETHCTL" -s "$C_SOCK" peer tag far d a
	atf_check -o match:"tags a, d" "$LETHCTL" -s "$C_SOCK" peer untag "$ID" b+c
	atf_check -o inline:"['a', 'd']\n" python3 -c '
import json, sys
print(json.load(open(sys.argv[1]))["peers"][0]["tags"])' "$C_BASE/state/peers.json"
	atf_check -s exit:1 -e match:"bad tag" "$LETHCTL" -s "$C_SOCK" peer tag "$ID" 'x,y'
	atf_check -s exit:1 -e match:"more than 16 tags" "$LETHCTL" -s "$C_SOCK" peer tag "$ID" \
	    1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17
	atf_check -s exit:1 -e match:"more than 16" "$LETHCTL" -s "$C_SOCK" peer tag "$ID" \
	    1 2 3 4 5 6 7 8 9 10 11 12 13 14 15
	# REST: a bad tag, a bad body, an unknown peer
	atf_check -o match:'"code": *1001' curl -s --unix-socket "$C_SOCK" -X POST \
	    -d '{"tags":["has space"]}' "http://x/api/v1/peers/$ID/tags"
	atf_check -o match:'"code": *1001' curl -s --unix-socket "$C_SOCK" -X POST \
	    -d '{"tag":["a"]}' "http://x/api/v1/peers/$ID/tags"
	atf_check -o match:'"code": *1003' curl -s --unix-socket "$C_SOCK" -X POST \
	    -d '{"tags":["a"]}' "http://x/api/v1/peers/00000000000000000000000000000000/tags"
	atf_check -o match:'"tags": *\["a"\]' curl -s --unix-socket "$C_SOCK" -X DELETE \
	    -d '{"tags":["d"]}' "http://x/api/v1/peers/$ID/tags"
	# a restart keeps them; peer list shows them
	lethd_cleanup_stop
	T=$C_T SOCK=$C_SOCK BASE=$C_BASE lethd_start
	atf_check -o match:"far .* a$" "$LETHCTL" -s "$C_SOCK" peer list
	atf_check -o match:'^tags +a$' "$LETHCTL" -s "$C_SOCK" peer show "$ID"
	# remote routes check what they are given
	atf_check -o match:'"code": *1001' curl -s --unix-socket "$C_SOCK" \
	    "http://x/api/v1/remote/stats?peer=nothex"
	atf_check -o match:'"code": *1003' curl -s --unix-socket "$C_SOCK" \
	    "http://x/api/v1/remote/stats?peer=00000000000000000000000000000000"
	atf_check -o match:'"code": *1001' curl -s --unix-socket "$C_SOCK" \
	    "http://x/api/v1/remote/$ID/logs/..bad"
	atf_check -o match:'"code": *1001' curl -s --unix-socket "$C_SOCK" -X POST \
	    -d '{"profileId":"../x"}' "http://x/api/v1/remote/$ID/start"
	atf_check -o match:'"code": *1001' curl -s --unix-socket "$C_SOCK" -X POST \
	    -d '{"minerName":"m","extra":1}' "http://x/api/v1/remote/$ID/stop"
	atf_check -o match:'"code": *1004' -o match:'not connected' curl -s --unix-socket "$C_SOCK" \
	    -X POST -d '{"minerName":"m"}' "http://x/api/v1/remote/$ID/stop"
	atf_check -o match:'"status": *"offline"' curl -s --unix-socket "$C_SOCK" \
	    "http://x/api/v1/remote/stats?tag=a"
	atf_check -o match:'"asked": *0' curl -s --unix-socket "$C_SOCK" \
	    "http://x/api/v1/remote/stats?tag=nosuch"
	T=$C_T SOCK=$C_SOCK check_no_restarts
}
tags_are_kept_across_a_restart_cleanup() { lethd_cleanup; }

atf_init_test_cases()
{
	atf_add_test_case status_shows_every_worker_and_the_fleet_total
	atf_add_test_case an_operator_starts_and_stops_an_observer_is_refused
	atf_add_test_case a_gone_or_denying_worker_is_marked_and_refuses
	atf_add_test_case tags_are_kept_across_a_restart
}
