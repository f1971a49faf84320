#!/usr/bin/env bash
# Run Xen guests as test cases under the real Xen 4.17 hypervisor, booted
# with a Linux dom0 in QEMU (TCG). See tests/xen/README.md.
#
#   tests/xen/run.sh [-v] [CASE-FILE ...]
#
# Without CASE-FILEs every tests/xen/cases/*.case runs, all in one boot,
# each as a PV guest (NAME) and as a PVH guest (NAME-pvh) from the same
# image, unless DUET_XEN_MODES (default "pv pvh") names fewer modes.
# -v shows the serial console (Xen, dom0 Linux) live; it is always saved.
set -euo pipefail
shopt -s lastpipe # the result parser at the end of a pipe keeps its variables

# shellcheck source=platform-xen/qemu/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/../../platform-xen/qemu/common.sh"

# Allowance for booting Xen and dom0 and bringing up the toolstack, and per
# case for disk set-up, the post check (at most 30 s in dom0) and clean-up.
boot_allowance=${DUET_XEN_BOOT_ALLOWANCE:-150}
case_slack=45

verbose=0
usage() {
	sed -n '2,11s/^# \{0,1\}//p' "$0"
	exit 2
}
while getopts vh opt; do
	case $opt in
	v) verbose=1 ;;
	*) usage ;;
	esac
done
shift $((OPTIND - 1))

if (($# > 0)); then
	case_files=("$@")
else
	case_files=("$xen_dir"/cases/*.case)
	[[ -e ${case_files[0]} ]] || die "no cases in $xen_dir/cases"
fi

xen_fetch

run=$out/run        # staging, plan and decoded logs of this run
stage=$run/dom0     # dom0's root file system
serial=$out/serial.log
lock_dir "$out"
rm -rf "$run"
mkdir -p "$run"/{meta,logs}
build_dom0_tree "$stage"
mkdir -p "$stage/duet/plan" "$stage/duet/images"

# ---------------------------------------------------------------- the plan

# Every key a case file may set (tests/xen/README.md documents them).
case_keys=(description kernel ramdisk ramdisk_init ramdisk_modules memory
	vcpus vif mac disks hotplug extra xl_extra action post expect expect_not
	expect_shutdown timeout selftest_expect selftest_reason host_check deploy
	pv_only)

# Quote a value for dom0's ash.
shq() { printf "'%s'" "${1//\'/\'\\\'\'}"; }

# resolve_path PATH: an absolute path, or PATH under $DUET_XEN_BUILD, or
# under the repository top, whichever exists first.
resolve_path() {
	if [[ $1 == /* ]]; then
		[[ -e $1 ]] && printf '%s\n' "$1" && return 0
	elif [[ -e $build/$1 ]]; then
		printf '%s\n' "$build/$1" && return 0
	elif [[ -e $top/$1 ]]; then
		printf '%s\n' "$top/$1" && return 0
	fi
	return 1
}

# stage_image HOST-PATH: copy a guest image into dom0 once; print its path
# there.
stage_image() {
	local src=$1 key base dst
	key=$(printf '%s' "$src" | md5sum | cut -c1-8)
	base=$(basename "$src")
	dst=/duet/images/$key-${base//[^A-Za-z0-9._-]/_}
	[[ -e $stage$dst ]] || stage_kernel "$src" "$stage$dst"
	printf '%s\n' "$dst"
}

# One regex a line, surrounding blanks dropped (cases indent them).
regex_lines() { printf '%s\n' "$1" | sed -e 's/^[[:space:]]*//' -e 's/[[:space:]]*$//' -e '/^$/d'; }

# read_case FILE NAME: the case's keys and values, NUL-separated. The case
# file is sourced by a clean bash (case files are the project's own and may
# use $DUET_XEN_ROOT, $DUET_XEN_KVER, $DUET_TOP, $DUET_XEN_BUILD and
# $DUET_XEN_CASE, the domain's name: NAME or NAME-pvh), so it cannot
# clobber this script's variables; a key this harness does not know is an
# error (typos would otherwise pass silently). Variables starting with "_"
# are the case file's own. No stdin: a quote gone wrong in a case file can
# turn text into a command (an apostrophe in a comment inside action=
# once ran "view", which waited for a terminal).
read_case() {
	# shellcheck disable=SC2016 # the script expands in the inner bash
	env -i PATH="$PATH" DUET_XEN_ROOT="$root" DUET_XEN_KVER="$kver" \
		DUET_TOP="$top" DUET_XEN_BUILD="$build" DUET_XEN_CASE="$2" \
		bash -euc '
			_keys=" $2 "
			_before=$(compgen -v)
			# shellcheck disable=SC1090
			source "$1"
			for _v in $(compgen -v); do
				[[ $_v =~ ^[a-z][a-z0-9_]*$ ]] || continue
				grep -qxF "$_v" <<<"$_before" && continue
				if [[ $_keys != *" $_v "* ]]; then
					echo "unknown key $_v= (known: $2)" >&2
					exit 1
				fi
				printf "%s\0%s\0" "$_v" "${!_v}"
			done' read-case "$1" "${case_keys[*]}" </dev/null
}

# prepare_case FILE INDEX NAME MODE: check a case and write its plan for
# dom0, to boot as a MODE (pv, pvh) guest. Runs in a subshell; errors go to
# stderr and make the case fail; status 3 (with the reason on stdout) is a
# case that does not run in MODE.
prepare_case() (
	local file=$1 idx=$2 name=$3 mode=$4 pd key value
	pd=$stage/duet/plan/$(printf '%03d' "$idx")-$name

	# shellcheck disable=SC2034 # description is for readers of the case
	local description='' kernel='' ramdisk='' ramdisk_init='' ramdisk_modules=''
	local memory=32 vcpus=1 vif=no mac='' disks='' hotplug=light extra='' xl_extra=''
	local action='' post='' expect='' expect_not='' expect_shutdown=poweroff
	local timeout=60 selftest_expect='' selftest_reason='' host_check='' deploy=''
	local pv_only=''
	# Key and value pairs, NUL-separated: values are data, never code.
	read_case "$file" "$name" >"$run/meta/$name.kv" || return 1
	while IFS= read -r -d '' key && IFS= read -r -d '' value; do
		[[ " ${case_keys[*]} " == *" $key "* ]] || { echo "unknown key $key=" >&2; return 1; }
		printf -v "$key" '%s' "$value"
	done <"$run/meta/$name.kv"

	# What the host needs to judge the result.
	{
		printf 'timeout=%q\n' "$timeout"
		printf 'expect_shutdown=%q\n' "$expect_shutdown"
		printf 'selftest_expect=%q\n' "$selftest_expect"
		printf 'selftest_reason=%q\n' "$selftest_reason"
		printf 'host_check=%q\n' "$host_check"
	} >"$run/meta/$name"
	if [[ $mode == pvh && -n $pv_only ]]; then
		printf '%s\n' "$pv_only"
		return 3
	fi

	[[ $timeout =~ ^[1-9][0-9]*$ ]] || { echo "timeout must be whole seconds" >&2; return 1; }
	[[ $memory =~ ^[1-9][0-9]*$ || ($memory == auto && -n $deploy) ]] ||
		{ echo "memory must be MiB (or auto, with deploy=)" >&2; return 1; }
	[[ $vcpus =~ ^[1-9][0-9]*$ ]] || { echo "vcpus must be a number" >&2; return 1; }
	[[ $vif == yes || $vif == no ]] || { echo "vif must be yes or no" >&2; return 1; }
	[[ $hotplug == light || $hotplug == stock ]] || { echo "hotplug must be light or stock" >&2; return 1; }
	# The harness's light hotplug scripts, or Xen's own (slow under TCG).
	local vscript='' bscript=''
	if [[ $hotplug == light ]]; then
		vscript=',script=/duet/hotplug-vif'
		bscript='script=/duet/hotplug-block,'
	fi
	[[ $expect_shutdown =~ ^(poweroff|reboot|crash|suspend|watchdog|running)$ ]] || {
		echo "expect_shutdown must be poweroff, reboot, crash, suspend, watchdog or running" >&2
		return 1
	}
	[[ -z $selftest_expect || $selftest_expect == fail ]] || { echo "selftest_expect must be fail" >&2; return 1; }
	[[ $extra != *[\"\\]* ]] || { echo "extra must not hold \" or \\" >&2; return 1; }
	[[ -n $kernel ]] || { echo "no kernel= given" >&2; return 1; }

	local kpath rpath='' ipath
	kpath=$(resolve_path "$kernel") || {
		echo "kernel image not found: $kernel (looked in $build and $top)" >&2
		return 1
	}
	mkdir -p "$pd"
	local cfg=$pd/guest.cfg
	# deploy=xl: the configuration is the one `duet deploy xl` writes for
	# the image, as a user would boot it; the harness adds only what it
	# must (where dom0 keeps the image, its light hotplug script, and
	# domains that stay until their console is read).
	if [[ -n $deploy ]]; then
		[[ $deploy == xl ]] || { echo "deploy must be xl" >&2; return 1; }
		[[ -z $disks && -z $ramdisk$ramdisk_init && -z $xl_extra ]] ||
			{ echo "deploy=xl takes no disks, ramdisk or xl_extra" >&2; return 1; }
		local dargs=(path="$(stage_image "$kpath")" name="$name" vcpus="$vcpus" type="$mode"
			on_poweroff=preserve on_reboot=preserve on_crash=preserve)
		[[ $memory == auto ]] || dargs+=(memory="$memory")
		[[ -z $extra ]] || dargs+=(extra="$extra")
		if [[ $vif == yes ]]; then
			[[ -n $mac ]] || mac=$(printf '00:16:3e:99:00:%02x' $((idx % 256)))
			dargs+=(vif="bridge:xenbr0,mac=$mac${vscript:+,script=${vscript#,script=}}")
		else
			dargs+=(vif=none)
		fi
		"$top/duet" deploy xl "$kpath" -o "$cfg" "${dargs[@]}" || return 1
	else
		{
			echo "# Generated by tests/xen/run.sh from $file"
			echo "name = \"$name\""
			echo "type = \"$mode\""
			echo "kernel = \"$(stage_image "$kpath")\""
			echo "memory = $memory"
			echo "vcpus = $vcpus"
			echo "extra = \"$extra\""
			# Nothing restarts, and the ended domain stays until dom0 has
			# drained its console ring (the last lines before a crash
			# matter most); run-case destroys it.
			echo 'on_poweroff = "preserve"'
			echo 'on_reboot = "preserve"'
			echo 'on_crash = "preserve"'
		} >"$cfg"

		if [[ -n $ramdisk && -n $ramdisk_init ]]; then
			echo "give ramdisk= or ramdisk_init=, not both" >&2
			return 1
		elif [[ -n $ramdisk ]]; then
			rpath=$(resolve_path "$ramdisk") || { echo "ramdisk not found: $ramdisk" >&2; return 1; }
			echo "ramdisk = \"$(stage_image "$rpath")\"" >>"$cfg"
		elif [[ -n $ramdisk_init ]]; then
			ipath=$(resolve_path "$ramdisk_init") || { echo "ramdisk_init not found: $ramdisk_init" >&2; return 1; }
			# shellcheck disable=SC2086 # a list of module names
			build_guest_initramfs "$ipath" "$stage/duet/images/initrd-$name.cpio" $ramdisk_modules
			echo "ramdisk = \"/duet/images/initrd-$name.cpio\"" >>"$cfg"
		fi

		if [[ $vif == yes ]]; then
			[[ -n $mac ]] || mac=$(printf '00:16:3e:99:00:%02x' $((idx % 256)))
			echo "vif = [ 'bridge=xenbr0,mac=$mac$vscript' ]" >>"$cfg"
		fi

		# disks="VDEV:SIZE[:KIND:PATH] ...", SIZE in K, M or G; KIND is file (raw
		# copy), tar or cpio (an archive of a folder) for the initial content.
		local d vdev size kind src kib dlist='' dcfg=''
		for d in $disks; do
			IFS=: read -r vdev size kind src <<<"$d"
			[[ $vdev =~ ^xvd[a-z]+$ ]] || { echo "disk '$d': device must be xvdX" >&2; return 1; }
			case $size in
			[1-9]*[0-9]K) kib=${size%K} ;;
			[1-9]*[0-9]M | [1-9]M) kib=$((${size%M} * 1024)) ;;
			[1-9]*[0-9]G | [1-9]G) kib=$((${size%G} * 1024 * 1024)) ;;
			[1-9]K) kib=${size%K} ;;
			*) echo "disk '$d': size must be like 512K, 8M or 1G" >&2; return 1 ;;
			esac
			if [[ -n $kind ]]; then
				src=$(resolve_path "$src") || { echo "disk '$d': content not found" >&2; return 1; }
				case $kind in
				file) cp "$src" "$pd/$vdev.init" ;;
				cpio) cpio_pack "$src" "$pd/$vdev.init" ;;
				tar)
					(cd "$src" && find . -mindepth 1 -printf '%P\n' | LC_ALL=C sort |
						tar --format=ustar --owner=0 --group=0 --numeric-owner \
							--no-recursion -T - -cf "$pd/$vdev.init")
					;;
				*) echo "disk '$d': content kind must be file, tar or cpio" >&2; return 1 ;;
				esac
				(($(stat -c %s "$pd/$vdev.init") <= kib * 1024)) ||
					{ echo "disk '$d': content larger than the disk" >&2; return 1; }
			fi
			dlist+=" $vdev:$kib"
			dcfg+="${dcfg:+, }'format=raw,vdev=$vdev,access=rw,${bscript}target=/run/duet/$name/$vdev.img'"
		done
		[[ -z $dcfg ]] || echo "disk = [ $dcfg ]" >>"$cfg"
		[[ -z $xl_extra ]] || printf '%s\n' "$xl_extra" >>"$cfg"
	fi

	{
		echo "name=$(shq "$name")"
		echo "timeout=$(shq "$timeout")"
		echo "expect_shutdown=$(shq "$expect_shutdown")"
		echo "disks=$(shq "${dlist# }")"
	} >"$pd/vars"
	regex_lines "$expect" >"$pd/expect"
	regex_lines "$expect_not" >"$pd/expect_not"
	[[ -z $action ]] || printf '%s\n' "$action" >"$pd/action.sh"
	[[ -z $post ]] || printf '%s\n' "$post" >"$pd/post.sh"
)

# --------------------------------------------------------------- reporting

passed=0 failed=0
declare -A reported=() seen=()
planned=() # case names dom0 will run, in order

fmt_cs() { [[ $1 =~ ^[0-9]+$ ]] && printf '%d.%02ds' $(($1 / 100)) $(($1 % 100)) || printf -- '-'; }

# Guest output may hold escape sequences and stray bytes: keep the terminal
# sane.
sanitize() {
	sed -e 's/\x1b\[[0-9;?]*[A-Za-z]//g' -e 's/\x1b[()][A-Za-z0-9]//g' -e 's/\x1b[=>]//g' |
		tr -d '\r' | tr -c '\11\12\40-\176' '?'
}

# show_log NAME KIND [LINES]: a decoded log from dom0, prefixed; LINES keeps
# only the last lines.
show_log() {
	local f=$run/logs/$1.$2.b64
	[[ -s $f ]] || return 0
	# awk ends the last line too (a prompt has no newline).
	base64 -di <"$f" | sanitize | { if [[ -n ${3:-} ]]; then tail -n "$3"; else cat; fi; } |
		awk -v k="$2" '{ print "    " k "| " $0 }'
}

log_lines() {
	local f=$run/logs/$1.$2.b64
	[[ -s $f ]] || { echo 0; return; }
	base64 -di <"$f" | sanitize | grep -c . || true
}

pass() { passed=$((passed + 1)); printf 'xen: PASS %s\n' "$*"; }
fail() { failed=$((failed + 1)); printf 'xen: FAIL %s\n' "$*"; }

show_all_logs() {
	local k
	for k in console xl action post; do show_log "$1" "$k"; done
}

# report NAME STATUS FIRST SHUT END REASON: judge one case dom0 reported.
report() {
	local name=$1 status=$2 first=$3 shut=$4 end=$5 reason=$6
	local timeout='' expect_shutdown='' selftest_expect='' selftest_reason=''
	local host_check='' out
	[[ -f $run/meta/$name ]] || return 0 # not a case of this run
	# shellcheck disable=SC1090
	. "$run/meta/$name"
	reported[$name]=1
	local times
	times="create->first-console $(fmt_cs "$first"), create->"
	[[ $end == running ]] && times+="destroy" || times+="shutdown"
	times+=" $(fmt_cs "$shut")"

	if [[ $selftest_expect == fail ]]; then
		# The harness checks itself: this case must be caught failing,
		# for the intended reason, with the guest's console captured.
		local lines
		lines=$(log_lines "$name" console)
		if [[ $status == FAIL && $lines -gt 0 ]] &&
			{ [[ -z $selftest_reason ]] || [[ $reason =~ $selftest_reason ]]; }; then
			pass "$name (failed as expected: $reason; console log of $lines lines captured, last:)"
			show_log "$name" console 3
		else
			fail "$name: self-test expected a failure matching /${selftest_reason:-.}/ with a console log; got $status ($lines console lines): $reason"
			show_all_logs "$name"
		fi
	elif [[ $status == PASS && -n $host_check ]]; then
		# After QEMU is gone: a check that takes a while (a build) must
		# not stall the serial console, whose output Xen then drops.
		host_checks+=("$name" "$times")
	elif [[ $status == PASS ]]; then
		pass "$name ($times)"
	else
		fail "$name: $reason"
		show_all_logs "$name"
	fi
}

# host_check_run NAME TIMES: a passed case's host check, with the host's
# tools (the unstripped images, addr2line, the POSIX builds), in a scratch
# folder: CONSOLE is the guest's console log, decoded; OUT the file the
# post script left.
host_check_run() {
	local name=$1 times=$2 host_check='' out
	# shellcheck disable=SC1090
	. "$run/meta/$name"
	base64 -di <"$run/logs/$name.console.b64" | tr -d '\r' >"$run/logs/$name.console"
	rm -f "$run/logs/$name.out"
	[[ ! -s $run/logs/$name.out.b64 ]] ||
		base64 -di <"$run/logs/$name.out.b64" >"$run/logs/$name.out"
	mkdir -p "$run/host/$name"
	if out=$(cd "$run/host/$name" && CONSOLE=$run/logs/$name.console \
		OUT=$run/logs/$name.out \
		DUET_TOP=$top DUET_XEN_BUILD=$build \
		bash -euo pipefail -c "$host_check" 2>&1); then
		pass "$name ($times; host check: $(printf '%s\n' "$out" | tail -n 1 | cut -c1-160))"
	else
		fail "$name: the host check failed"
		show_all_logs "$name"
		printf '%s\n' "$out" | awk '{ print "    host| " $0 }'
	fi
}

# host_failure NAME REASON: a case that failed before reaching dom0 (bad
# case file, missing image). A self-test case may expect exactly that.
host_failure() {
	local name=$1 reason=$2 selftest_expect='' selftest_reason=''
	if [[ -f $run/meta/$name ]]; then
		# shellcheck disable=SC1090
		. "$run/meta/$name"
	fi
	if [[ $selftest_expect == fail && -n $selftest_reason && $reason =~ $selftest_reason ]]; then
		pass "$name (failed as expected before boot: $reason)"
	else
		fail "$name: $reason"
	fi
}

# ---------------------------------------------------------------- the run

start=$SECONDS
bound=$boot_allowance
idx=0
modes=${DUET_XEN_MODES:-pv pvh}
for mode in $modes; do
	[[ $mode == pv || $mode == pvh ]] || die "DUET_XEN_MODES: '$mode' is not pv or pvh"
done
for file in "${case_files[@]}"; do
	base=$(basename "$file" .case)
	[[ -f $file ]] || { fail "$base: no such case file: $file"; continue; }
	[[ $base =~ ^[A-Za-z0-9][A-Za-z0-9_-]*$ ]] || { fail "$base: bad case name (letters, digits, _ and -)"; continue; }
	[[ -z ${seen[$base]:-} ]] || { fail "$base: given twice"; continue; }
	seen[$base]=1
	for mode in $modes; do
		name=$base
		[[ $mode == pv ]] || name=$base-$mode
		idx=$((idx + 1))
		if err=$(prepare_case "$file" "$idx" "$name" "$mode" 2>&1); then
			planned+=("$name")
			# shellcheck disable=SC1090
			bound=$((bound + $(. "$run/meta/$name" && echo "$timeout") + case_slack))
		else
			status=$?
			rm -rf "$stage/duet/plan/$(printf '%03d' "$idx")-$name"
			if ((status == 3)); then
				printf 'xen: SKIP %s: PV only: %s\n' "$name" "$err"
			else
				host_failure "$name" "${err:-case preparation failed}"
			fi
		fi
	done
done

qemu_rc=0 fatal='' ready='' finished='' host_checks=()
if ((${#planned[@]} > 0)); then
	initrd=$run/dom0.cpio
	cpio_pack "$stage" "$initrd"
	printf 'xen: booting Xen + dom0 in QEMU (TCG) for %d case(s), bound %ds\n' "${#planned[@]}" "$bound"
	printf 'xen: serial log: %s\n' "$serial"

	exec {slog}>"$serial"
	set +e
	run_qemu "$bound" "$initrd" -serial stdio -monitor none </dev/null 2>&1 |
		while IFS= read -r line || [[ -n $line ]]; do
			printf '%s\n' "$line" >&"$slog"
			line=${line%$'\r'}
			((verbose)) && printf '%s\n' "$line"
			# The marker may follow other serial output on the same line.
			[[ $line == *"@@DUET-XEN "* ]] || continue
			read -r kind a b c d e f <<<"${line#*@@DUET-XEN }"
			case $kind in
			ready) ready=1; printf 'xen: dom0 toolstack up after %ds (%s)\n' $((SECONDS - start)) "$a" ;;
			fatal) fatal="dom0 set-up failed: ${line#*@@DUET-XEN fatal }" ;;
			log) printf '%s\n' "$c" >>"$run/logs/$a.$b.b64" ;;
			result) [[ -n ${reported[$a]:-} ]] || report "$a" "$b" "$c" "$d" "$e" "$f" ;;
			done) finished=1 ;;
			esac
		done
	qemu_rc=${PIPESTATUS[0]}
	set -e
	exec {slog}>&-
fi

for ((i = 0; i < ${#host_checks[@]}; i += 2)); do
	host_check_run "${host_checks[i]}" "${host_checks[i + 1]}"
done

missing=0
for name in "${planned[@]}"; do
	[[ -z ${reported[$name]:-} ]] || continue
	missing=$((missing + 1))
	if [[ -n $fatal ]]; then
		why=$fatal
	elif ((qemu_rc == 124 || qemu_rc == 137)); then
		why="the run exceeded its bound of ${bound}s"
	elif [[ -z $ready ]]; then
		why="QEMU exited (status $qemu_rc) before dom0's toolstack came up"
	elif [[ -n $finished ]]; then
		why="dom0 finished without a result for it (see the serial log)"
	else
		why="QEMU exited (status $qemu_rc) before dom0 reported the case"
	fi
	fail "$name: not reported: $why"
	show_all_logs "$name"
done
if ((missing > 0)); then
	echo "xen: last lines of the serial log ($serial):"
	tail -n 25 "$serial" | sanitize | sed 's/^/    serial| /'
fi
if ((qemu_rc != 0 && missing == 0)); then
	fail "qemu: exited with status $qemu_rc"
fi

printf 'xen: wall time %ds\n' $((SECONDS - start))
printf 'xen: %d passed, %d failed\n' "$passed" "$failed"
((failed == 0))
