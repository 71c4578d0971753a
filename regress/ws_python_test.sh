#! @ATF_SH@
# netd's WebSocket (netd/ws.c) against another implementation: Debian's
# python3-websockets (10.x, asyncio API) as the client, regress/ws_echo
# as the server.  ws_echo pings every second and prints one
# "closed CODE WHY" line per connection.

ECHO="@abs_builddir@/regress/ws_echo"

# The first python3 that has websockets (pyenv's may not).
find_python()
{
	for p in python3 /usr/bin/python3; do
		if command -v "$p" >/dev/null 2>&1 &&
		    "$p" -c 'import websockets' 2>/dev/null; then
			echo "$p"
			return 0
		fi
	done
	return 1
}

start_echo()
{
	PY=$(find_python) || \
	    atf_skip "python3 -c 'import websockets' fails: install python3-websockets"
	"$ECHO" > echo.out 2> echo.err &
	echo $! > echo.pid
	i=0
	while [ ! -s echo.out ] && [ $i -lt 50 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	PORT=$(head -n 1 echo.out)
	[ -n "$PORT" ] || atf_fail "ws_echo printed no port"
	write_client
}

stop_echo()
{
	[ -f echo.pid ] && kill "$(cat echo.pid)" 2>/dev/null
	return 0
}

# Wait for ws_echo to print a line matching $1.
wait_line()
{
	i=0
	while ! grep -q "$1" echo.out && [ $i -lt 50 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	grep -q "$1" echo.out || \
	    atf_fail "ws_echo did not print '$1': $(tr '\n' '|' < echo.out)"
}

write_client()
{
	cat > client.py <<'EOF'
import asyncio
import sys

import websockets


async def echo(ws):
    data = bytes(range(256)) * 4
    await ws.send(data)
    back = await asyncio.wait_for(ws.recv(), 5)
    assert isinstance(back, bytes), "echo came back as %r" % type(back)
    assert back == data, "echo differs"
    pong = await ws.ping(b"py")
    await asyncio.wait_for(pong, 5)
    # let the server's one-second pings be answered a few times
    await asyncio.sleep(2.5)
    await ws.send(b"still here")
    assert await asyncio.wait_for(ws.recv(), 5) == b"still here"
    await ws.close(1000, "done")
    assert ws.close_code == 1000, "server's close code %r" % ws.close_code


async def server_close(ws):
    await ws.send(b"close-1008")
    try:
        await asyncio.wait_for(ws.recv(), 5)
    except websockets.ConnectionClosed:
        pass
    else:
        raise AssertionError("no close")
    assert ws.close_code == 1008, "close code %r" % ws.close_code


async def text(ws):
    await ws.send("a text frame")
    try:
        await asyncio.wait_for(ws.recv(), 5)
    except websockets.ConnectionClosed:
        pass
    else:
        raise AssertionError("text frame echoed")
    assert ws.close_code == 1003, "close code %r" % ws.close_code


async def main(port, mode):
    uri = "ws://127.0.0.1:%d/ws" % port
    async with websockets.connect(uri, open_timeout=5,
                                  close_timeout=5) as ws:
        await {"echo": echo, "server_close": server_close,
               "text": text}[mode](ws)
    print("ok")


asyncio.run(main(int(sys.argv[1]), sys.argv[2]))
EOF
}

run_client()
{
	atf_check -s exit:0 -o inline:"ok\n" -e ignore \
	    timeout 30 "$PY" client.py "$PORT" "$1"
}

atf_test_case handshake_echo_ping_and_close_interoperate cleanup
handshake_echo_ping_and_close_interoperate_head()
{
	atf_set descr "python websockets opens, echoes binary, pings, survives server pings, closes 1000"
}
handshake_echo_ping_and_close_interoperate_body()
{
	start_echo
	run_client echo
	wait_line "^closed 1000 peer closed$"
}
handshake_echo_ping_and_close_interoperate_cleanup() { stop_echo; }

atf_test_case server_close_code_reaches_python cleanup
server_close_code_reaches_python_head()
{
	atf_set descr "a close 1008 from ws_close is the code python sees"
}
server_close_code_reaches_python_body()
{
	start_echo
	run_client server_close
	wait_line "^closed 1008 local close$"
}
server_close_code_reaches_python_cleanup() { stop_echo; }

atf_test_case a_text_frame_from_python_gets_1003 cleanup
a_text_frame_from_python_gets_1003_head()
{
	atf_set descr "a text message is refused with close 1003, not echoed"
}
a_text_frame_from_python_gets_1003_body()
{
	start_echo
	run_client text
	wait_line "^closed 1003 text frame$"
}
a_text_frame_from_python_gets_1003_cleanup() { stop_echo; }

atf_init_test_cases()
{
	atf_add_test_case handshake_echo_ping_and_close_interoperate
	atf_add_test_case server_close_code_reaches_python
	atf_add_test_case a_text_frame_from_python_gets_1003
}
