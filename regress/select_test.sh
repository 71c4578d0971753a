#! @ATF_SH@
# Peer selection with real nodes on loopback: pings measure pingMs, pongs
# carry each node's location into geoKm, and `peer best' ranks the
# workers by the weights of the controller's lethd.conf.

. "@abs_builddir@/regress/lib.subr"

PARIS="48.8566 2.3522"
LONDON="51.5074 -0.1278"
NEWYORK="40.7128 -74.0060"

# the controller C, geography alone deciding (bound: 20000 km)
controller()
{
	node_setup C "location $PARIS" "$@"
	node_start C
	atf_check -o ignore "$LETHCTL" -s "$C_SOCK" node init --name controller --role controller
}

# worker NAME [config lines]: a worker node paired with C as operator;
# sets NAME_ID
worker()
{
	_w=$1
	shift
	node_setup "$_w" 'advertise "127.0.0.1:1"' "$@"
	node_start "$_w"
	eval "_s=\$${_w}_SOCK"
	atf_check -o ignore "$LETHCTL" -s "$_s" node init --name "$_w" --role worker
	_port=$(node_port "$_w")
	atf_check -o save:token.out "$LETHCTL" -s "$_s" node pair \
	    --role operator --address "127.0.0.1:$_port"
	atf_check -o ignore "$LETHCTL" -s "$C_SOCK" peer add "$(head -n 1 token.out)" --name "$_w"
	eval "${_w}_ID=\$(node_json $_w id)"
}

wait_connected()
{
	i=0
	until [ "$(peer_field C "$1" connected)" = True ]; do
		i=$((i + 1)); [ $i -gt 300 ] && atf_fail "$1 never connected"
		sleep 0.1
	done
}

# near FIELD-VALUE WANT TOLERANCE
near()
{
	python3 -c '
import sys
v, want, tol = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
if v == "None" or abs(float(v) - want) > tol:
    sys.exit("%s is not %s +- %s" % (v, want, tol))' "$1" "$2" "$3" || \
	    atf_fail "$4: $1, want $2"
}

atf_test_case pongs_give_ping_and_distance_and_best_ranks_by_geography cleanup
pongs_give_ping_and_distance_and_best_ranks_by_geography_head()
{
	atf_set descr "workers in London, New York and nowhere: peer ping fills pingMs and geoKm (the haversine of the configured points), peer best -k orders them by distance"
	atf_set require.user root
}
pongs_give_ping_and_distance_and_best_ranks_by_geography_body()
{
	controller "select weight ping 0" "select weight hops 0" \
	    "select weight score 0" "select weight geo 1"
	worker W1 "location $LONDON"
	worker W2 "location $NEWYORK"
	worker W3
	for id in "$W1_ID" "$W2_ID" "$W3_ID"; do
		wait_connected "$id"
		[ "$(peer_field C "$id" pingMs)" = None ] || \
		    atf_fail "pingMs before any ping"
		atf_check -o match:"ms" "$LETHCTL" -s "$C_SOCK" peer ping "$id"
		[ "$(peer_field C "$id" pingMs)" != None ] || \
		    atf_fail "no pingMs after a ping"
		atf_check -o inline:"1\n" -x \
		    "\"$LETHCTL\" -s \"$C_SOCK\" -j peer list | python3 -c 'import json,sys; print([p for p in json.load(sys.stdin)[\"peers\"] if p[\"id\"] == \"$id\"][0][\"hops\"])'"
	done
	# Paris-London 343.5 km, Paris-New York 5837 km; W3 has none
	near "$(peer_field C "$W1_ID" geoKm)" 343.5 1 "London geoKm"
	near "$(peer_field C "$W2_ID" geoKm)" 5837 5 "New York geoKm"
	[ "$(peer_field C "$W3_ID" geoKm)" = None ] || \
	    atf_fail "geoKm for a worker with no location"

	# geography alone: London, New York, then the unknown (the worst)
	atf_check -o save:best.json "$LETHCTL" -s "$C_SOCK" -j peer best -k 3
	python3 - "$W1_ID" "$W2_ID" "$W3_ID" <<'PY' || atf_fail "bad ranking"
import json, sys
b = json.load(open("best.json"))
ids = [p["id"] for p in b["peers"]]
want = sys.argv[1:4]
if ids != want:
    sys.exit("order %s, want %s" % (ids, want))
d = [p["distance"] for p in b["peers"]]
# distance = geoKm / 20000 * weight 1; unknown = 1
for got, exp in zip(d, [343.5 / 20000, 5837 / 20000, 1.0]):
    if abs(got - exp) > 0.001:
        sys.exit("distances %s" % d)
if b["ideal"] != [0, 0, 0, 0] or b["weights"]["geoKm"] != 1 or \
   b["weights"]["pingMs"] != 0 or b["bounds"]["geoKm"] != 20000:
    sys.exit("ideal, weights or bounds: %s" % b)
PY
	# -k 2 and the default of 1; the table
	atf_check -o save:best2.json "$LETHCTL" -s "$C_SOCK" -j peer best -k 2
	python3 -c 'import json,sys; ids=[p["id"] for p in json.load(open("best2.json"))["peers"]]; sys.exit(ids != sys.argv[1:])' "$W1_ID" "$W2_ID" || \
	    atf_fail "peer best -k 2"
	atf_check -o match:"^ +1  $W1_ID  W1 " -o not-match:"$W2_ID" \
	    "$LETHCTL" -s "$C_SOCK" peer best
	atf_check -o match:"RANK" -o match:"^ +2  $W2_ID  W2 .*5[0-9]{3}\.[0-9]km" \
	    "$LETHCTL" -s "$C_SOCK" peer best -k 2
	# the workers see the controller's location in their pongs' peers
	T=$C_T SOCK=$C_SOCK check_no_restarts
}
pongs_give_ping_and_distance_and_best_ranks_by_geography_cleanup() { lethd_cleanup; }

atf_test_case the_ping_timer_keeps_ping_fresh cleanup
the_ping_timer_keeps_ping_fresh_head()
{
	atf_set descr "with select ping interval 1, a paired worker gets a pingMs and a geoKm without any peer ping"
	atf_set require.user root
}
the_ping_timer_keeps_ping_fresh_body()
{
	controller "select ping interval 1"
	worker W1 "location $LONDON"
	wait_connected "$W1_ID"
	i=0
	until [ "$(peer_field C "$W1_ID" geoKm)" != None ]; do
		i=$((i + 1)); [ $i -gt 300 ] && atf_fail "the timer never pinged"
		sleep 0.1
	done
	[ "$(peer_field C "$W1_ID" pingMs)" != None ] || atf_fail "no pingMs"
	near "$(peer_field C "$W1_ID" geoKm)" 343.5 1 "London geoKm"
}
the_ping_timer_keeps_ping_fresh_cleanup() { lethd_cleanup; }

atf_test_case best_refuses_a_bad_k_and_is_not_a_peer_id cleanup
best_refuses_a_bad_k_and_is_not_a_peer_id_head()
{
	atf_set descr "GET /peers/best?k= refuses 0, 1001 and words with 400, and so any other parameter; POST is 405; lethctl refuses a bad -k; with no workers the list is empty"
	atf_set require.user root
}
best_refuses_a_bad_k_and_is_not_a_peer_id_body()
{
	controller
	for k in 0 1001 abc -1; do
		atf_check -o match:'"code": *1001' -o match:"^400$" \
		    curl -s -w '\n%{http_code}\n' --unix-socket "$C_SOCK" \
		    "http://localhost/api/v1/peers/best?k=$k"
	done
	for q in count=3 "k=2&x=1" K=2; do
		atf_check -o match:'"code": *1001' -o match:"^400$" \
		    -o match:"unknown parameter" \
		    curl -s -w '\n%{http_code}\n' --unix-socket "$C_SOCK" \
		    "http://localhost/api/v1/peers/best?$q"
	done
	atf_check -o match:"^405$" -o ignore curl -s -o /dev/null \
	    -w '%{http_code}\n' -X POST --unix-socket "$C_SOCK" \
	    http://localhost/api/v1/peers/best
	atf_check -o match:'"peers": *\[\]' -o match:'"ideal"' \
	    curl -s --unix-socket "$C_SOCK" "http://localhost/api/v1/peers/best?k=5"
	atf_check -s exit:1 -e match:"k 0 is too small" "$LETHCTL" -s "$C_SOCK" peer best -k 0
	atf_check -s exit:1 -e match:"too large" "$LETHCTL" -s "$C_SOCK" peer best -k 1001
	atf_check -o inline:"no workers\n" "$LETHCTL" -s "$C_SOCK" peer best
}
best_refuses_a_bad_k_and_is_not_a_peer_id_cleanup() { lethd_cleanup; }

atf_init_test_cases()
{
	atf_add_test_case pongs_give_ping_and_distance_and_best_ranks_by_geography
	atf_add_test_case the_ping_timer_keeps_ping_fresh
	atf_add_test_case best_refuses_a_bad_k_and_is_not_a_peer_id
}
