#! @ATF_SH@
# lethd -n: the config check from the command line.  The golden files
# are those of parse_test (regress/conf); -n runs the system checks too,
# so the good config here names users every Debian system has.

LETHD="@abs_builddir@/lethd"
CONF="@abs_srcdir@/regress/conf"

atf_test_case good_config_says_configuration_ok
good_config_says_configuration_ok_head()
{
	atf_set descr "lethd -n on a good config prints configuration OK"
}
good_config_says_configuration_ok_body()
{
	cd "$CONF/good" || atf_fail "no $CONF/good"
	atf_check -s exit:0 -o inline:"configuration OK\n" -e empty \
	    "$LETHD" -n -f system-users.conf
}

atf_test_case verbose_prints_the_effective_config
verbose_prints_the_effective_config_head()
{
	atf_set descr "lethd -nv prints every keyword, then configuration OK"
}
verbose_prints_the_effective_config_body()
{
	{ cat "$CONF/good/system-users.out"; echo "configuration OK"; } \
	    > expout
	expout="$(pwd)/expout"
	cd "$CONF/good" || atf_fail "no $CONF/good"
	atf_check -s exit:0 -o file:"$expout" -e empty \
	    "$LETHD" -nv -f system-users.conf
}

atf_test_case bad_configs_print_exact_errors
bad_configs_print_exact_errors_head()
{
	atf_set descr "lethd -n on a bad config prints its .err lines, exits 1"
}
bad_configs_print_exact_errors_body()
{
	cd "$CONF/bad" || atf_fail "no $CONF/bad"
	n=0
	for f in *.conf; do
		atf_check -s exit:1 -o empty -e file:"${f%.conf}.err" \
		    "$LETHD" -n -f "$f"
		n=$((n + 1))
	done
	[ "$n" -gt 0 ] || atf_fail "no bad configs in $CONF/bad"
}

atf_test_case system_check_errors_are_reported
system_check_errors_are_reported_head()
{
	atf_set descr "lethd -n refuses root and unknown users"
}
system_check_errors_are_reported_body()
{
	cat > root.conf <<EOF
keyd user root
netd user sys
user daemon
miner user man
control group adm
max connections 100
EOF
	atf_check -s exit:1 -o empty -e inline:"root.conf: user root has uid 0
root.conf: user root has primary group 0
" "$LETHD" -n -f root.conf

	cat > unknown.conf <<EOF
keyd user bin
netd user sys
user daemon
miner user _no_such_user_lethd
control group adm
max connections 100
EOF
	atf_check -s exit:1 -o empty \
	    -e inline:"unknown.conf: unknown user _no_such_user_lethd\n" \
	    "$LETHD" -n -f unknown.conf
}

atf_test_case missing_file_is_an_error
missing_file_is_an_error_head()
{
	atf_set descr "lethd -n on a missing file says so and exits 1"
}
missing_file_is_an_error_body()
{
	atf_check -s exit:1 -o empty \
	    -e inline:"missing.conf: No such file or directory\n" \
	    "$LETHD" -n -f missing.conf
	atf_check -s exit:1 -o empty -e inline:".: not a regular file\n" \
	    "$LETHD" -n -f .
}

atf_init_test_cases()
{
	atf_add_test_case good_config_says_configuration_ok
	atf_add_test_case verbose_prints_the_effective_config
	atf_add_test_case bad_configs_print_exact_errors
	atf_add_test_case system_check_errors_are_reported
	atf_add_test_case missing_file_is_an_error
}
