# ./duet deps: the Debian packages, then lwIP's and BearSSL's sources (and
# Redis's, whose test suite kv is checked against).
# Sourced by ./duet (build-aux/duet/lib.sh first); defines cmd_* functions.

cmd_deps() {
	local missing sudo=
	missing=$(missing_packages | xargs)
	[[ $(id -u) -eq 0 ]] || sudo=sudo
	if [[ -z $missing ]]; then
		say "all Debian packages present"
	else
		say "installing: $missing"
		$sudo apt-get update
		# shellcheck disable=SC2086
		DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y --no-install-recommends $missing
	fi
	have_sources || fetch_sources
	have_test_sources || fetch_test_sources
}

