#! @ATF_SH@
# The REST API against its OpenAPI document (doc/openapi.yaml): the
# document is valid OpenAPI 3.0, every route in it answers a real
# daemon as documented, and the loopback TCP listener wants its token,
# its Host and never says CORS.

. "@abs_builddir@/regress/lib.subr"

DOC="$SRC/doc/openapi.yaml"
CHECK="$SRC/regress/openapi_check.py"
OAS="/usr/share/openapi-specification/schemas/v3.0/schema.json"
TESTMINER="$BUILD/regress/testminer"

need_python_or_skip()
{
	python3 -c 'import yaml, jsonschema' 2>/dev/null || \
	    atf_skip "python3-yaml and python3-jsonschema are needed"
	[ -f "$OAS" ] || atf_skip "openapi-specification is needed ($OAS)"
}

# free_port: a TCP port on 127.0.0.1 nobody listens on now
free_port()
{
	python3 -c '
import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])'
}

atf_test_case the_document_is_valid_openapi_3_0
the_document_is_valid_openapi_3_0_head()
{
	atf_set descr "doc/openapi.yaml validates against the OpenAPI 3.0 schema, and lists exactly the routes the code's comments list"
}
the_document_is_valid_openapi_3_0_body()
{
	need_python_or_skip
	atf_check -o match:"document OK" python3 "$CHECK" lint "$DOC" "$OAS" "$SRC"
	# the check can fail: a document with a response that breaks it
	sed 's/^openapi: 3.0.3$/openapi: 3.0.3\nbogus: 1/' "$DOC" > broken.yaml
	atf_check -s exit:1 -e match:"errors against the OpenAPI 3.0 schema" \
	    python3 "$CHECK" lint broken.yaml "$OAS" "$SRC"
	sed '/^  \/status:$/,/^  \/node\/info:$/{/^  \/node\/info:$/!d}' \
	    "$DOC" > missing.yaml
	atf_check -s exit:1 -e match:"in api.c, not in the document: GET /status" \
	    python3 "$CHECK" lint missing.yaml "$OAS" "$SRC"
}

atf_test_case every_documented_route_answers_as_documented cleanup
every_documented_route_answers_as_documented_head()
{
	atf_set descr "a controller paired with a worker: every operation of the document is called, and each status and body is the document's"
	atf_set require.user root
	atf_set timeout 300
}
every_documented_route_answers_as_documented_body()
{
	need_python_or_skip
	node_setup W 'miner poll interval 1'
	node_start W
	node_setup C 'miner poll interval 1'
	node_start C
	install -o root -g root -m 0755 "$TESTMINER" "$W_BASE/miners/xmrig"
	install -o root -g root -m 0755 "$TESTMINER" "$C_BASE/miners/xmrig"
	atf_check -o ignore "$LETHCTL" -s "$W_SOCK" node init --name worker --role worker
	WPORT=$(node_port W)
	WID=$(node_json W id)
	atf_check -o save:walk.out -e save:walk.err python3 "$CHECK" walk "$DOC" \
	    --sock "$C_SOCK" --worker-sock "$W_SOCK" --worker-id "$WID" \
	    --worker-port "$WPORT"
	grep -q "^walked 37 operations" walk.out || \
	    atf_fail "not every operation walked: $(tail -n 3 walk.out)"
	T=$W_T SOCK=$W_SOCK check_no_restarts
	T=$C_T SOCK=$C_SOCK check_no_restarts
}
every_documented_route_answers_as_documented_cleanup() { lethd_cleanup; }

# tcp_node [PORT]: one node with the TCP API on APORT (PORT, or a free
# one); sets TOKEN
tcp_node()
{
	APORT=${1:-$(free_port)}
	lethd_setup "api listen on 127.0.0.1 port $APORT"
	lethd_start
	i=0
	until [ -s "$BASE/state/api.token" ]; do
		i=$((i + 1)); [ $i -gt 300 ] && atf_fail "no api.token"
		sleep 0.1
	done
	TOKEN=$(cat "$BASE/state/api.token")
	URL="http://127.0.0.1:$APORT/api/v1"
}

# get NAME curl-args...: status into NAME.code, headers NAME.h, body NAME.b
get()
{
	_n=$1
	shift
	curl -s -o "$_n.b" -D "$_n.h" -w '%{http_code}' "$@" > "$_n.code" || \
	    atf_fail "curl $*"
	if grep -qi '^access-control-' "$_n.h"; then
		atf_fail "a CORS header in answer $_n: $(cat "$_n.h")"
	fi
}

atf_test_case the_tcp_listener_wants_the_token_and_its_host cleanup
the_tcp_listener_wants_the_token_and_its_host_head()
{
	atf_set descr "api listen: 401 without or with a wrong token, 200 with it, 421 for another Host, 405 for OPTIONS, no CORS header ever; the token file is 0600 and minerd's"
	atf_set require.user root
}
the_tcp_listener_wants_the_token_and_its_host_body()
{
	tcp_node
	# the token file: 64 hex digits, 0600, owned by minerd's uid
	grep -Eqx '[0-9a-f]{64}' "$BASE/state/api.token" || \
	    atf_fail "token: $(cat "$BASE/state/api.token")"
	uid=$(status_field minerd uid)
	atf_check -o inline:"600 $uid\n" stat -c '%a %u' "$BASE/state/api.token"

	get none "$URL/health"
	atf_check -o inline:"401" cat none.code
	grep -qi '^WWW-Authenticate: Bearer' none.h || \
	    atf_fail "no WWW-Authenticate: $(cat none.h)"
	grep -q '"code":1002' none.b || atf_fail "body: $(cat none.b)"

	get wrong -H "Authorization: Bearer $(echo "$TOKEN" | tr 0-9a-f 1-9a-f0)" \
	    "$URL/health"
	atf_check -o inline:"401" cat wrong.code
	get short -H "Authorization: Bearer abcd" "$URL/health"
	atf_check -o inline:"401" cat short.code
	get basic -u "user:$TOKEN" "$URL/health"
	atf_check -o inline:"401" cat basic.code

	get right -H "Authorization: Bearer $TOKEN" "$URL/health"
	atf_check -o inline:"200" cat right.code
	grep -q '"status":"ok"' right.b || atf_fail "body: $(cat right.b)"
	get status -H "Authorization: Bearer $TOKEN" "$URL/status"
	atf_check -o inline:"200" cat status.code
	get local -H "Authorization: Bearer $TOKEN" \
	    -H "Host: localhost:$APORT" "$URL/health"
	atf_check -o inline:"200" cat local.code

	# a browser page from another name (DNS rebinding): refused
	get host -H "Authorization: Bearer $TOKEN" \
	    -H "Host: evil.example:$APORT" "$URL/health"
	atf_check -o inline:"421" cat host.code
	get port -H "Authorization: Bearer $TOKEN" \
	    -H "Host: 127.0.0.1:1" "$URL/health"
	atf_check -o inline:"421" cat port.code
	# no port means 80, which this listener is not
	get noport -H "Authorization: Bearer $TOKEN" \
	    -H "Host: 127.0.0.1" "$URL/health"
	atf_check -o inline:"421" cat noport.code

	# CORS: no preflight, no Access-Control-* on any answer (get checks)
	get options -X OPTIONS -H "Origin: http://evil.example" \
	    -H "Access-Control-Request-Method: DELETE" "$URL/peers"
	atf_check -o inline:"405" cat options.code
	get origin -H "Authorization: Bearer $TOKEN" \
	    -H "Origin: http://evil.example" "$URL/peers"
	atf_check -o inline:"200" cat origin.code
	get notfound -H "Authorization: Bearer $TOKEN" "$URL/nope"
	atf_check -o inline:"404" cat notfound.code

	grep -q "api: refused" "$T/lethd.log" || atf_fail "no refusal logged"
	check_no_restarts
}
the_tcp_listener_wants_the_token_and_its_host_cleanup() { lethd_cleanup; }

atf_test_case a_listener_on_port_80_takes_a_host_without_a_port cleanup
a_listener_on_port_80_takes_a_host_without_a_port_head()
{
	atf_set descr "api listen on port 80: Host 127.0.0.1 or localhost without a port is this listener (curl sends it so), another name still gets 421"
	atf_set require.user root
}
a_listener_on_port_80_takes_a_host_without_a_port_body()
{
	python3 -c '
import socket
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", 80))' 2>/dev/null || atf_skip "127.0.0.1 port 80 is taken"
	tcp_node 80
	get bare -H "Authorization: Bearer $TOKEN" http://127.0.0.1/api/v1/health
	atf_check -o inline:"200" cat bare.code
	get local -H "Authorization: Bearer $TOKEN" -H "Host: localhost" \
	    http://127.0.0.1/api/v1/health
	atf_check -o inline:"200" cat local.code
	get full -H "Authorization: Bearer $TOKEN" -H "Host: 127.0.0.1:80" \
	    http://127.0.0.1/api/v1/health
	atf_check -o inline:"200" cat full.code
	get other -H "Authorization: Bearer $TOKEN" -H "Host: evil.example" \
	    http://127.0.0.1/api/v1/health
	atf_check -o inline:"421" cat other.code
	get v6 -H "Authorization: Bearer $TOKEN" -H "Host: [::1]" \
	    http://127.0.0.1/api/v1/health
	atf_check -o inline:"421" cat v6.code
	check_no_restarts
}
a_listener_on_port_80_takes_a_host_without_a_port_cleanup() { lethd_cleanup; }

atf_test_case a_bad_token_file_is_refused_not_trusted cleanup
a_bad_token_file_is_refused_not_trusted_head()
{
	atf_set descr "an api.token readable by others is not used: 503 until it is fixed and lethd reloads"
	atf_set require.user root
}
a_bad_token_file_is_refused_not_trusted_body()
{
	tcp_node
	chmod 0644 "$BASE/state/api.token"
	kill -HUP "$PARENT"
	i=0
	until grep -q "api: api.token: want a file of mode 0600" "$T/lethd.log"; do
		i=$((i + 1)); [ $i -gt 300 ] && atf_fail "not refused"
		sleep 0.1
	done
	get bad -H "Authorization: Bearer $TOKEN" "$URL/health"
	atf_check -o inline:"503" cat bad.code
	chmod 0600 "$BASE/state/api.token"
	kill -HUP "$PARENT"
	i=0
	until get good -H "Authorization: Bearer $TOKEN" "$URL/health" &&
	    [ "$(cat good.code)" = 200 ]; do
		i=$((i + 1)); [ $i -gt 300 ] && atf_fail "not served after the fix"
		sleep 0.1
	done
	check_no_restarts
}
a_bad_token_file_is_refused_not_trusted_cleanup() { lethd_cleanup; }

atf_test_case a_non_loopback_api_listen_is_refused
a_non_loopback_api_listen_is_refused_head()
{
	atf_set descr "lethd -n refuses api listen on an address that is not loopback, accepts 127.0.0.0/8 and ::1"
}
a_non_loopback_api_listen_is_refused_body()
{
	for a in 0.0.0.0 192.168.1.10 :: '*' localhost; do
		printf 'api listen on %s port 8484\n' "$a" > bad.conf
		atf_check -s exit:1 -e match:"api listen" "$LETHD" -n -f bad.conf
	done
	for a in 127.0.0.1 127.1.2.3 ::1; do
		printf 'api listen on %s port 8484\n' "$a" > good.conf
		atf_check -o match:"api listen on $a port 8484" -e ignore \
		    "$LETHD" -nv -f good.conf
	done
}

atf_init_test_cases()
{
	atf_add_test_case the_document_is_valid_openapi_3_0
	atf_add_test_case every_documented_route_answers_as_documented
	atf_add_test_case the_tcp_listener_wants_the_token_and_its_host
	atf_add_test_case a_listener_on_port_80_takes_a_host_without_a_port
	atf_add_test_case a_bad_token_file_is_refused_not_trusted
	atf_add_test_case a_non_loopback_api_listen_is_refused
}
