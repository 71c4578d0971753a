#! @ATF_SH@
# Miners end to end through lethctl: profiles, stats and history from a
# running test miner, the watchdog, refusals, and a full state disk.

. "@abs_builddir@/regress/lib.subr"

TESTMINER="$BUILD/regress/testminer"

# rig [extra config]: a node whose miners poll every second
rig()
{
	lethd_setup 'miner poll interval 1' 'watchdog zero hashrate 30' \
	    'watchdog api timeout 3' "$@"
	lethd_start
	install -o root -g root -m 0755 "$TESTMINER" "$BASE/miners/xmrig"
}

# miner_field NAME FIELD: from `lethctl -j miner stats NAME`
miner_field()
{
	"$LETHCTL" -j -s "$SOCK" miner stats "$1" | python3 -c '
import json, sys
d = json.load(sys.stdin)
for k in sys.argv[1].split("."):
    d = d[k] if d is not None else None
print(d)' "$2"
}

atf_test_case stats_and_history_show_the_hashrate cleanup
stats_and_history_show_the_hashrate_head()
{
	atf_set descr "a miner started from a profile: stats carry its hashrate and read time, history keeps samples"
	atf_set require.user root
}
stats_and_history_show_the_hashrate_body()
{
	rig
	atf_check -o ignore "$LETHCTL" -s "$SOCK" profile add p1 --type xmrig \
	    --binary xmrig --pool stratum+tcp://127.0.0.1:3333 --user wallet \
	    --pass s3cretpass --algo rx/0
	atf_check -o match:"m1: running" "$LETHCTL" -s "$SOCK" miner start p1 --name m1
	i=0
	until [ "$(miner_field m1 hashrate.10s)" != None ] 2>/dev/null; do
		i=$((i + 1)); [ $i -gt 300 ] && atf_fail "no hashrate"
		sleep 0.1
	done
	hr=$(miner_field m1 hashrate.10s)
	python3 -c "import sys; sys.exit(0 if float('$hr') > 0 else 1)" || \
	    atf_fail "hashrate $hr"
	[ "$(miner_field m1 readAt)" -gt 0 ] || atf_fail "no readAt"
	atf_check -o match:"^m1 +xmrig +p1 +running" "$LETHCTL" -s "$SOCK" miner list
	# no secret on the miner's command line
	pid=$(miner_field m1 pid)
	if tr '\0' ' ' < /proc/$pid/cmdline | grep -q s3cretpass; then
		atf_fail "the pool password is on the command line"
	fi
	# history: samples arrive every poll
	i=0
	until [ "$("$LETHCTL" -j -s "$SOCK" miner history m1 | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["samples"]))' 2>/dev/null || echo 0)" -ge 2 ]; do
		i=$((i + 1)); [ $i -gt 300 ] && atf_fail "no history"
		sleep 0.1
	done
	atf_check -o match:"H/s" "$LETHCTL" -s "$SOCK" miner history m1
	atf_check -o inline:"600\n" stat -c %a "$BASE/state/profiles.json"
	check_no_restarts
}
stats_and_history_show_the_hashrate_cleanup() { lethd_cleanup; }

atf_test_case watchdog_restarts_zero_hashrate_and_a_dead_api cleanup
watchdog_restarts_zero_hashrate_and_a_dead_api_head()
{
	atf_set descr "a miner at zero hashrate, and one whose API stops answering, are restarted and logged"
	atf_set require.user root
	atf_set timeout 300
}
watchdog_restarts_zero_hashrate_and_a_dead_api_body()
{
	rig
	atf_check -o ignore "$LETHCTL" -s "$SOCK" profile add zero --type xmrig \
	    --binary xmrig --pool stratum+tcp://127.0.0.1:3333 --user w \
	    --arg --test-zero
	atf_check -o ignore "$LETHCTL" -s "$SOCK" profile add mute --type xmrig \
	    --binary xmrig --pool stratum+tcp://127.0.0.1:3333 --user w \
	    --arg --test-no-api=2
	atf_check -o ignore "$LETHCTL" -s "$SOCK" miner start zero
	atf_check -o ignore "$LETHCTL" -s "$SOCK" miner start mute
	i=0
	until grep -q "watchdog: miner mute: API not answering" "$T/lethd.log"; do
		i=$((i + 1)); [ $i -gt 600 ] && atf_fail "no API watchdog"
		sleep 0.1
	done
	i=0
	until grep -q "watchdog: miner zero: hashrate 0 for" "$T/lethd.log"; do
		i=$((i + 1)); [ $i -gt 1200 ] && atf_fail "no zero watchdog"
		sleep 0.1
	done
	i=0
	until [ "$(miner_field zero restarts)" -ge 1 ] && \
	    [ "$(miner_field mute restarts)" -ge 1 ]; do
		i=$((i + 1)); [ $i -gt 300 ] && atf_fail "not restarted"
		sleep 0.1
	done
	check_no_restarts
}
watchdog_restarts_zero_hashrate_and_a_dead_api_cleanup() { lethd_cleanup; }

atf_test_case a_bad_profile_is_refused_field_by_field cleanup
a_bad_profile_is_refused_field_by_field_head()
{
	atf_set descr "a profile with several bad fields names each of them and is not saved"
	atf_set require.user root
}
a_bad_profile_is_refused_field_by_field_body()
{
	rig
	atf_check -s exit:1 -e save:err "$LETHCTL" -s "$SOCK" profile add bad \
	    --type xmrig --binary ../x --pool 'not a url' --user w --threads 5000
	for f in binary pool threads; do
		grep -q "$f" err || atf_fail "no error for $f: $(cat err)"
	done
	atf_check -s exit:1 -e match:"type" "$LETHCTL" -s "$SOCK" profile add bad2 \
	    --type nosuch --pool stratum+tcp://127.0.0.1:1 --user w
	atf_check -o inline:"no profiles\n" "$LETHCTL" -s "$SOCK" profile list
	# a miner from a profile that does not exist
	atf_check -s exit:1 -e not-empty "$LETHCTL" -s "$SOCK" miner start nosuch
	check_no_restarts
}
a_bad_profile_is_refused_field_by_field_cleanup() { lethd_cleanup; }

atf_test_case a_full_state_disk_loses_no_profile cleanup
a_full_state_disk_loses_no_profile_head()
{
	atf_set descr "the state directory on a tiny tmpfs: saving fails with a clear error, earlier profiles stay"
	atf_set require.user root
}
a_full_state_disk_loses_no_profile_body()
{
	lethd_setup 'miner poll interval 1'
	mkdir -p "$BASE"
	chmod 755 "$BASE"
	mkdir -m 0700 "$BASE/state"
	mount -t tmpfs -o size=2m,mode=0700 tmpfs "$BASE/state" 2>/dev/null || \
	    atf_skip "cannot mount a tmpfs here"
	echo "$BASE/state" > mounted
	chown _lethd:_lethd "$BASE/state"
	lethd_start
	atf_check -o ignore "$LETHCTL" -s "$SOCK" profile add keep --type xmrig \
	    --binary xmrig --pool stratum+tcp://127.0.0.1:3333 --user w
	# fill the disk, then try to save more
	dd if=/dev/zero of="$BASE/state/filler" bs=4k 2>/dev/null || true
	n=0 failed=0
	while [ $n -lt 50 ]; do
		if ! "$LETHCTL" -s "$SOCK" profile add "p$n" --type xmrig \
		    --binary xmrig --pool stratum+tcp://127.0.0.1:3333 \
		    --user "$(printf 'w%0200d' $n)" 2>err; then
			failed=1
			break
		fi
		n=$((n + 1))
	done
	[ $failed = 1 ] || atf_fail "the disk never filled"
	grep -q "No space left on device" err || atf_fail "unclear error: $(cat err)"
	grep -q "No space left on device" "$T/lethd.log" || atf_fail "not logged"
	atf_check -o match:"^keep " "$LETHCTL" -s "$SOCK" profile list
	python3 -c "import json; d = json.load(open('$BASE/state/profiles.json')); assert any(p['id'] == 'keep' for p in d['profiles'])" || \
	    atf_fail "profiles.json lost the earlier profile"
	check_no_restarts
}
a_full_state_disk_loses_no_profile_cleanup()
{
	lethd_cleanup_stop
	[ -f mounted ] && umount "$(cat mounted)" 2>/dev/null
	lethd_cleanup
}

atf_init_test_cases()
{
	atf_add_test_case stats_and_history_show_the_hashrate
	atf_add_test_case watchdog_restarts_zero_hashrate_and_a_dead_api
	atf_add_test_case a_bad_profile_is_refused_field_by_field
	atf_add_test_case a_full_state_disk_loses_no_profile
}
