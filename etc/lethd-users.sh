#!/bin/sh
# Create lethd's users and groups, as root; safe to run again.
# One user per process, each with its own primary group, so that none
# can read another's files or signal it; _lethctl is the group allowed
# on the control socket.
set -e
for u in _lethkey _lethnet _lethd _lethminer; do
	if ! getent passwd "$u" >/dev/null; then
		useradd --system --user-group --no-create-home \
		    --home-dir /nonexistent --shell /usr/sbin/nologin "$u"
	fi
done
getent group _lethctl >/dev/null || groupadd --system _lethctl
exit 0
