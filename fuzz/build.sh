#!/bin/sh
#
# Build the libFuzzer harnesses with clang (ASan, UBSan).
#
#	fuzz/build.sh [name ...]
#
# Builds every harness listed at the bottom, or only those named.  The
# binaries go to $OUT (default ./fuzz-out, below the directory you run
# this from: keep it out of the source tree).  Run one with its corpus:
#
#	./fuzz-out/fuzz_imsg -max_total_time=60 fuzz/corpus/imsg
#
# To add a harness, add one build_harness line: its name (the binary is
# fuzz_NAME), the pkg-config packages it needs in one quoted word, then
# its sources and any further flags (-D..., -l...).

set -eu

SRCDIR=$(cd "$(dirname "$0")/.." && pwd)
CC=${CC:-clang}
OUT=${OUT:-fuzz-out}
FUZZ_CFLAGS="-g -O1 -fsanitize=fuzzer,address,undefined"
FUZZ_CFLAGS="$FUZZ_CFLAGS -fno-sanitize-recover=undefined"
FUZZ_CFLAGS="$FUZZ_CFLAGS -D_GNU_SOURCE -DLIBBSD_OPENBSD_VIS"
FUZZ_CFLAGS="$FUZZ_CFLAGS -I $SRCDIR/common -I $SRCDIR/parent"
WANT="$*"

mkdir -p "$OUT"

# build_harness NAME "PKG ..." SOURCE|FLAG ...
build_harness()
{
	name=$1
	pkgs=$2
	shift 2
	if [ -n "$WANT" ]; then
		case " $WANT " in
		*" $name "*)	;;
		*)		return 0 ;;
		esac
	fi
	srcs=
	for s in "$@"; do
		case "$s" in
		-*)	srcs="$srcs $s" ;;
		*)	srcs="$srcs $SRCDIR/$s" ;;
		esac
	done
	echo "build fuzz_$name"
	# shellcheck disable=SC2086
	$CC $FUZZ_CFLAGS $(pkg-config --cflags $pkgs) -o "$OUT/fuzz_$name" \
	    $srcs $(pkg-config --libs $pkgs)
}

# imsg: a small read buffer, so short inputs make it grow and shrink.
build_harness imsg "libbsd-overlay" -DIMSG_RBUF_INIT=64 \
    fuzz/fuzz_imsg.c common/imsg.c
build_harness ctlresp "jansson libbsd-overlay" fuzz/fuzz_ctlresp.c \
    ctl/resp.c ctl/output.c ctl/resp_miner.c -lm
# select: the location a pong carries, and the point made of it.
build_harness select "jansson libbsd-overlay" fuzz/fuzz_select.c \
    minerd/select_point.c -lm
# serve: the checks of a controller's request payloads on a worker.
build_harness serve "jansson libbsd-overlay" fuzz/fuzz_serve.c \
    minerd/serve_check.c
# remote: what a controller keeps of a worker's answer.
build_harness remote "jansson libbsd-overlay" fuzz/fuzz_remote.c \
    minerd/remote_check.c -lm
build_harness msgverify "jansson libsodium libbsd-overlay" \
    fuzz/fuzz_msgverify.c minerd/msg.c
build_harness pairtoken "libsodium libbsd-overlay" fuzz/fuzz_pairtoken.c \
    minerd/pair.c

# wsupgrade: netd's WebSocket upgrade parsers (netd/ws.c); wsframe: a
# libwslay server context configured as netd's (no netd code needed).
build_harness wsupgrade "libsodium libevent libmd libbsd-overlay" \
    fuzz/fuzz_wsupgrade.c netd/ws.c -lwslay
build_harness wsframe "libbsd-overlay" fuzz/fuzz_wsframe.c -lwslay

# conf: lethd.conf(5), the grammar (parent/parse.y, turned into C here by
# yacc, in $OUT) and parent/config.c.
build_conf()
{
	case " ${WANT:-conf} " in
	*" conf "*)	;;
	*)		return 0 ;;
	esac
	echo "build fuzz_conf"
	${YACC:-yacc} -d -o "$OUT/parse.c" "$SRCDIR/parent/parse.y"
	# shellcheck disable=SC2046
	$CC $FUZZ_CFLAGS -I "$SRCDIR" $(pkg-config --cflags libbsd-overlay) \
	    -o "$OUT/fuzz_conf" "$SRCDIR/fuzz/fuzz_conf.c" "$OUT/parse.c" \
	    "$SRCDIR/parent/config.c" $(pkg-config --libs libbsd-overlay)
}
build_conf

# wire: the handshake and the record layer of common/wire.c.
build_harness hs "libsodium" fuzz/fuzz_hs.c common/wire.c
build_harness record "libsodium" fuzz/fuzz_record.c common/wire.c

# The miner drivers' parsers (miner/): XMRig's /2/summary and speed
# lines, TT-Miner's miner_getstat1, the generic driver's lines.
DRIVERS="miner/driver.c miner/xmrig.c miner/ttminer.c miner/generic.c"
for h in xmrig ttminer; do
	# shellcheck disable=SC2086
	build_harness $h "jansson libbsd-overlay" fuzz/fuzz_driver.c \
	    $DRIVERS "-I$SRCDIR/miner" -DFUZZ_DRIVER=driver_$h -lm
done
# shellcheck disable=SC2086
build_harness genericline "jansson libbsd-overlay" fuzz/fuzz_genericline.c \
    $DRIVERS "-I$SRCDIR/miner" -lm
