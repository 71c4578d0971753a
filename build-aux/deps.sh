#!/bin/sh
# Install what lethd needs on Debian 12, as root.
#   sh build-aux/deps.sh        build dependencies
#   sh build-aux/deps.sh test   build and test dependencies, and the users
set -e
BUILD="build-essential autoconf automake pkg-config byacc
    libsodium-dev libevent-dev libjansson-dev libbsd-dev libmd-dev
    libseccomp-dev libcurl4-openssl-dev libsqlite3-dev libwslay-dev mandoc"
# python3-yaml, python3-jsonschema and openapi-specification: the
# OpenAPI test reads doc/openapi.yaml, validates it against the 3.0
# schema that package ships, and the daemon's answers against it.
TEST="libatf-dev atf-sh kyua clang python3 python3-nacl python3-websockets
    curl util-linux procps python3-yaml python3-jsonschema
    openapi-specification"
pkgs="$BUILD"
[ "${1:-}" = test ] && pkgs="$BUILD $TEST"
missing=""
for p in $pkgs; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
	    missing="$missing $p"
done
if [ -n "$missing" ]; then
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq $missing
fi
[ "${1:-}" = test ] && sh "$(dirname "$0")/../etc/lethd-users.sh"
exit 0
