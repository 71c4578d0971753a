#! @ATF_SH@
# Two and three real nodes on loopback: pairing, sessions, signed pings,
# and the refusals around them.

. "@abs_builddir@/regress/lib.subr"

# two nodes with identities; W is the worker, C the controller
two_nodes()
{
	node_setup W 'advertise "127.0.0.1:1"'
	node_start W
	node_setup C
	node_start C
	atf_check -o ignore "$LETHCTL" -s "$W_SOCK" node init --name worker --role worker
	atf_check -o ignore "$LETHCTL" -s "$C_SOCK" node init --name controller --role controller
	WPORT=$(node_port W)
	WID=$(node_json W id)
	CID=$(node_json C id)
}

# pair C with W; sets TOKEN
pair_them()
{
	atf_check -o save:token.out "$LETHCTL" -s "$W_SOCK" node pair --role "${1:-operator}" \
	    --address "127.0.0.1:$WPORT"
	TOKEN=$(head -n 1 token.out)
	case "$TOKEN" in lethd1-*) ;; *) atf_fail "no token: $TOKEN" ;; esac
	atf_check -o ignore "$LETHCTL" -s "$C_SOCK" peer add "$TOKEN" --name w1
}

atf_test_case pairing_makes_a_session_and_a_signed_ping_works cleanup
pairing_makes_a_session_and_a_signed_ping_works_head()
{
	atf_set descr "node pair on a worker, peer add TOKEN on a controller: pinned, allowed, connected, ping answers"
	atf_set require.user root
}
pairing_makes_a_session_and_a_signed_ping_works_body()
{
	two_nodes
	pair_them operator
	i=0
	until [ "$(peer_field C "$WID" connected)" = True ]; do
		i=$((i + 1)); [ $i -gt 300 ] && atf_fail "never connected"
		sleep 0.1
	done
	atf_check -o match:"ms" "$LETHCTL" -s "$C_SOCK" peer ping "$WID"
	# the worker allows the controller as operator, persisted
	atf_check -o match:"^access +operator" "$LETHCTL" -s "$W_SOCK" peer show "$CID"
	grep -q "$CID" "$W_BASE/state/peers.json" || atf_fail "not in peers.json"
	atf_check -o inline:"600\n" stat -c %a "$W_BASE/state/peers.json"
	atf_check -o inline:"600\n" stat -c %a "$C_BASE/state/peers.json"
	# score moved up from 50 with the successes
	s=$(peer_field C "$WID" score)
	[ "$s" -ge 50 ] || atf_fail "score $s"
	T=$W_T SOCK=$W_SOCK check_no_restarts
	T=$C_T SOCK=$C_SOCK check_no_restarts
}
pairing_makes_a_session_and_a_signed_ping_works_cleanup() { lethd_cleanup; }

atf_test_case a_used_token_is_refused cleanup
a_used_token_is_refused_head()
{
	atf_set descr "a pairing token works once: a second controller using it is refused"
	atf_set require.user root
}
a_used_token_is_refused_body()
{
	two_nodes
	pair_them
	node_setup D
	node_start D
	atf_check -o ignore "$LETHCTL" -s "$D_SOCK" node init
	atf_check -s exit:1 -e not-empty "$LETHCTL" -s "$D_SOCK" peer add "$TOKEN"
	DID=$(node_json D id)
	grep -q "wrong secret, or the token expired or was used" "$(node_log W)" || \
	    grep -q "unknown key" "$(node_log W)" || atf_fail "no refusal logged"
	if ctl W -j peer list | grep -q "$DID"; then
		atf_fail "D was allowed"
	fi
	[ -z "$(ctl D -j peer list | grep "$WID")" ] || atf_fail "D kept the pin"
}
a_used_token_is_refused_cleanup() { lethd_cleanup; }

atf_test_case a_wrong_secret_is_refused cleanup
a_wrong_secret_is_refused_head()
{
	atf_set descr "a token whose secret was changed: the worker refuses the pair and allows nobody"
	atf_set require.user root
}
a_wrong_secret_is_refused_body()
{
	two_nodes
	atf_check -o save:token.out "$LETHCTL" -s "$W_SOCK" node pair --address "127.0.0.1:$WPORT"
	TOKEN=$(head -n 1 token.out)
	BAD=$(python3 - "$TOKEN" <<'EOP'
import base64, sys
t = sys.argv[1][len("lethd1-"):]
raw = bytearray(base64.urlsafe_b64decode(t + "=" * (-len(t) % 4)))
raw[-1] ^= 1
print("lethd1-" + base64.urlsafe_b64encode(bytes(raw)).decode().rstrip("="))
EOP
)
	atf_check -s exit:1 -e not-empty "$LETHCTL" -s "$C_SOCK" peer add "$BAD"
	grep -q "wrong secret" "$(node_log W)" || atf_fail "no log line on W"
	if ctl W -j peer list | grep -q "$CID"; then
		atf_fail "C was allowed"
	fi
}
a_wrong_secret_is_refused_cleanup() { lethd_cleanup; }

atf_test_case a_pinned_key_that_differs_is_refused cleanup
a_pinned_key_that_differs_is_refused_head()
{
	atf_set descr "peer add ADDRESS --key with another node's key: the session is refused and logged loudly"
	atf_set require.user root
}
a_pinned_key_that_differs_is_refused_body()
{
	two_nodes
	# pin W's address with some other key: W presents its own
	OTHER=$(python3 -c 'import base64, os; print(base64.b64encode(os.urandom(32)).decode())')
	atf_check -o ignore "$LETHCTL" -s "$C_SOCK" peer add "127.0.0.1:$WPORT" --key "$OTHER" --name liar
	i=0
	until grep -q "presented key" "$(node_log C)"; do
		i=$((i + 1)); [ $i -gt 300 ] && atf_fail "no refusal logged"
		sleep 0.1
	done
	ctl C -j peer list | grep -q '"connected": *true' && atf_fail "connected"
	true
}
a_pinned_key_that_differs_is_refused_cleanup() { lethd_cleanup; }

atf_test_case an_unknown_key_without_pairing_is_refused cleanup
an_unknown_key_without_pairing_is_refused_head()
{
	atf_set descr "a node that pins W but that W never paired: W refuses the session, adds nothing"
	atf_set require.user root
}
an_unknown_key_without_pairing_is_refused_body()
{
	two_nodes
	WPK=$(node_json W publicKey)
	atf_check -o ignore "$LETHCTL" -s "$C_SOCK" peer add "127.0.0.1:$WPORT" --key "$WPK" --name w
	i=0
	until grep -q "unknown key" "$(node_log W)"; do
		i=$((i + 1)); [ $i -gt 300 ] && atf_fail "no refusal logged on W"
		sleep 0.1
	done
	[ "$(ctl W -j peer list | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["peers"]))')" = 0 ] || \
	    atf_fail "W registered the stranger"
}
an_unknown_key_without_pairing_is_refused_cleanup() { lethd_cleanup; }

atf_test_case sessions_come_back_after_netd_restarts cleanup
sessions_come_back_after_netd_restarts_head()
{
	atf_set descr "kill -9 of the controller's netd: the session comes back and ping works again"
	atf_set require.user root
}
sessions_come_back_after_netd_restarts_body()
{
	two_nodes
	pair_them
	i=0
	until [ "$(peer_field C "$WID" connected)" = True ]; do
		i=$((i + 1)); [ $i -gt 300 ] && atf_fail "never connected"
		sleep 0.1
	done
	PARENT=$C_PARENT
	kill -9 "$(child_pid netd)"
	sleep 1
	i=0
	until ctl C peer ping "$WID" >/dev/null 2>&1; do
		i=$((i + 1)); [ $i -gt 600 ] && atf_fail "no session after the restart"
		sleep 0.1
	done
}
sessions_come_back_after_netd_restarts_cleanup() { lethd_cleanup; }

atf_init_test_cases()
{
	atf_add_test_case pairing_makes_a_session_and_a_signed_ping_works
	atf_add_test_case a_used_token_is_refused
	atf_add_test_case a_wrong_secret_is_refused
	atf_add_test_case a_pinned_key_that_differs_is_refused
	atf_add_test_case an_unknown_key_without_pairing_is_refused
	atf_add_test_case sessions_come_back_after_netd_restarts
}
