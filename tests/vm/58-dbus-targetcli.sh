#!/usr/bin/env bash
# vtld, tcmu-runner's D-Bus handler manager and targetcli. With a system bus and tcmu-runner in
# the guest, vtld registers TCMU subtype "vtl": `targetcli ls /backstores` lists user:vtl with
# vtld's config string format; a user:vtl backstore whose config string vtld does not serve is
# refused by vtld's CheckConfig, with vtld's reason, and nothing is created; a good one is created,
# vtld (never tcmu-runner) opens its uio device, and exported over tcm_loop by targetcli it
# answers INQUIRY as vtld's drive0. After tcmu-runner restarts, vtld registers again and
# tcmu-runner leaves the device alone; when the bus goes away vtld keeps serving. (Every other
# vtld test runs without a bus.)
# shellcheck source=tests/vm/lib.bash
source "$(dirname "$0")/lib.bash"

require_vtld_tcmu
for tool in dbus-daemon dbus-send tcmu-runner targetcli; do
    command -v "$tool" >/dev/null || fail "no $tool (scripts/setup installs dbus, tcmu-runner and targetcli-fb)"
done
export TARGETCLI_HOME=/tmp/targetcli
VLOG=$TEST_OUT/vtld.log
DBUS_PID="" RUNNER_PID=""

# targetcli's own shell (TargetCLI and UIRoot from /usr/bin/targetcli) in one Python process that
# runs command lines from stdin: each targetcli start costs about 15 s under TCG. It has its own
# preferences directory: a targetcli started meanwhile rewrites /tmp/targetcli/prefs.bin, and a
# shell reading it half-written dies (EOFError in configshell's prefs.load).
TARGETCLI_SHELL='
import runpy, sys
cli = runpy.run_path("/usr/bin/targetcli", run_name="targetcli_shell")
shell = cli["TargetCLI"]("/tmp/targetcli-shell")
cli["UIRoot"](shell, as_root=True).refresh()
print("@@rc=0", flush=True)
for line in sys.stdin:
    rc = 0
    try:
        shell.run_cmdline(line.strip())
    except Exception as e:
        print(e)
        rc = 1
    print("@@rc=%d" % rc, flush=True)
'
TCLI_PID=""
start_tcli() {
    coproc TCLI { exec /usr/bin/python3 -u -c "$TARGETCLI_SHELL" 2>"$TEST_OUT/targetcli-shell.err"; }
}
# bash unsets TCLI and TCLI_PID when the shell exits.
tcli_alive() { [[ -n ${TCLI_PID:-} && -n ${TCLI[0]:-} ]]; }
# tcli COMMAND LINE: run it in that shell; its output in TCLI_OUT, 0 or 1 (it raised) in TCLI_RC.
tcli_read() {
    local line
    TCLI_OUT=""
    tcli_alive || fail "targetcli's shell has exited: $(cat "$TEST_OUT/targetcli-shell.err")"
    while IFS= read -r -t 120 line <&"${TCLI[0]}"; do
        if [[ $line == @@rc=* ]]; then
            TCLI_RC=${line#@@rc=}
            return 0
        fi
        TCLI_OUT+=$line$'\n'
    done
    fail "targetcli's shell stopped answering; its last output: $TCLI_OUT $(cat "$TEST_OUT/targetcli-shell.err")"
}
tcli() {
    tcli_alive || fail "targetcli's shell has exited: $(cat "$TEST_OUT/targetcli-shell.err")"
    echo "$*" >&"${TCLI[1]}"
    tcli_read
    echo "targetcli> $*  (rc $TCLI_RC)"
    printf '%s' "$TCLI_OUT"
}
tcli_ok() {
    tcli "$@"
    ((TCLI_RC == 0)) || fail "targetcli '$*' failed"
}
stop_tcli() {
    tcli_alive || return 0
    local fd=${TCLI[1]}
    exec {fd}>&-
    wait "$TCLI_PID" || true
    TCLI_PID=""
}

cleanup() {
    [[ -n ${TCLI_PID:-} ]] && kill "$TCLI_PID" 2>/dev/null
    # Not targetcli: it cannot start without a system bus.
    /usr/bin/python3 -c 'from rtslib_fb import RTSRoot; RTSRoot().clear_existing(confirm=True)' || true
    [[ -n ${VTLD_PID:-} ]] && kill -TERM "$VTLD_PID" 2>/dev/null
    [[ -n $RUNNER_PID ]] && kill -TERM "$RUNNER_PID" 2>/dev/null
    [[ -n $DBUS_PID ]] && kill -TERM "$DBUS_PID" 2>/dev/null
    wait 2>/dev/null || true
}
trap cleanup EXIT

on_bus() {
    dbus-send --system --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus \
        org.freedesktop.DBus.NameHasOwner "string:$1" 2>/dev/null | grep -q 'boolean true'
}
start_runner() {
    mkdir -p "$TEST_OUT/tcmu-runner"
    setsid tcmu-runner -l "$TEST_OUT/tcmu-runner" >>"$TEST_OUT/tcmu-runner.out" 2>&1 &
    RUNNER_PID=$!
    wait_for 30 "tcmu-runner on the system bus (org.kernel.TCMUService1)" on_bus org.kernel.TCMUService1
}
registrations() { grep -c "registered TCMU handler 'vtl' with tcmu-runner" "$VLOG" || true; }
registered_twice() { (($(registrations) == 2)); }
# The uio device of LIO backstore NAME (its UIO name is tcm-user/<hba>/NAME/<dev_config>).
uio_named() {
    local f n
    for f in /sys/class/uio/uio*/name; do
        read -r n <"$f" || continue
        if [[ $n == tcm-user/*/"$1"/* ]]; then
            f=${f%/name}
            echo "${f##*/}"
            return 0
        fi
    done
    return 1
}
holds() {
    local fd
    for fd in /proc/"$1"/fd/*; do [[ $(readlink "$fd" 2>/dev/null) == "/dev/$2" ]] && return 0; done
    return 1
}
backstore_exists() { compgen -G "/sys/kernel/config/target/core/user_*/$1" >/dev/null; }
# refused NAME CFGSTRING MESSAGE: targetcli refuses the backstore with vtld's MESSAGE.
refused() {
    tcli /backstores/user:vtl create "name=$1" size=1M "cfgstring=$2" control=nl_reply_supported=-1
    ((TCLI_RC != 0)) || fail "targetcli created a user:vtl backstore with cfgstring=$2"
    [[ $TCLI_OUT == *"cfgstring invalid: $3"* ]] || fail "cfgstring=$2: expected 'cfgstring invalid: $3'"
    grep -qF "D-Bus CheckConfig 'vtl/$2': refused" "$VLOG" || fail "vtld did not answer CheckConfig for vtl/$2"
    ! backstore_exists "$1" || fail "backstore $1 exists after targetcli refused it"
}

step "modules"
load_lio_modules
read_identities

step "system bus, tcmu-runner, then vtld"
mkdir -p /run/dbus
setsid dbus-daemon --system --nofork --nopidfile >"$TEST_OUT/dbus-daemon.log" 2>&1 &
DBUS_PID=$!
wait_for 20 "the system bus socket" test -S /run/dbus/system_bus_socket
start_runner
start_vtld
wait_for 30 "vtld's registration with tcmu-runner" grep -q "registered TCMU handler 'vtl' with tcmu-runner" "$VLOG"
grep -F 'D-Bus' "$VLOG"
on_bus org.kernel.TCMUService1.HandlerManager1.vtl || fail "vtld does not own org.kernel.TCMUService1.HandlerManager1.vtl"

step "targetcli lists user:vtl, with vtld's config string format"
start_tcli  # starts meanwhile
out=$(expect "targetcli ls /backstores" targetcli ls /backstores 1)
echo "$out"
grep -q 'o- user:vtl ' <<<"$out" || fail "targetcli ls /backstores does not list user:vtl"
tcli_read
((TCLI_RC == 0)) || fail "targetcli's shell did not start: $TCLI_OUT"
tcli_ok /backstores/user:vtl help create
grep -qF 'vtl/<library>/<device>: a device of a library vtld serves' <<<"$TCLI_OUT" ||
    fail "targetcli's help does not show vtld's config string format"

step "config strings vtld does not serve are refused by its CheckConfig"
refused bad0 lib0/drive9 "'vtl/lib0/drive9': vtld's configuration has no library/device 'lib0/drive9'"
refused bad1 lib0 "'vtl/lib0' is not vtl/<library>/<device> (such as vtl/lib0/drive0)"
refused bad2 lib9/changer "'vtl/lib9/changer': vtld's configuration has no library/device 'lib9/changer'"

step "without control=nl_reply_supported=-1, tcmu-runner fails the kernel's device add (a subtype it does not load)"
tcli /backstores/user:vtl create name=lib0.drive1 size=1M cfgstring=lib0/drive1
((TCLI_RC != 0)) || fail "the enable succeeded: tcmu-runner no longer fails devices of D-Bus handlers (docs/architecture.md says it does)"
! backstore_exists lib0.drive1 || fail "backstore lib0.drive1 left behind"
# Its uio device existed while the enable waited for tcmu-runner: a mapping of it then would oops
# the kernel (tcmu_vma_fault) when the failed enable frees the ring. vtld waits for `enable`.
grep -F '[lib0/drive1] attached' "$VLOG" && fail "vtld attached lib0.drive1, whose enable failed"
dmesg | grep -E 'Oops|BUG:' && fail "the kernel oopsed"

step "targetcli creates user:vtl lib0.drive0 (cfgstring=lib0/drive0); vtld, not tcmu-runner, opens it"
tcli_ok /backstores/user:vtl create name=lib0.drive0 size=1M cfgstring=lib0/drive0 control=nl_reply_supported=-1
grep -qF "D-Bus CheckConfig 'vtl/lib0/drive0': accepted" "$VLOG" || fail "vtld was not asked about vtl/lib0/drive0"
uio=$(uio_named lib0.drive0) || fail "no uio device for backstore lib0.drive0"
wait_for 20 "vtld opens /dev/$uio" holds "$VTLD_PID" "$uio"
holds "$RUNNER_PID" "$uio" && fail "tcmu-runner holds /dev/$uio"
read -r uio_name <"/sys/class/uio/$uio/name"
echo "/dev/$uio ($uio_name) held by vtld"
hba=${uio_name#tcm-user/}
hba=${hba%%/*}
refused lib0.drive0b lib0/drive0 \
    "'vtl/lib0/drive0': lib0/drive0 is already served through $uio (LIO backstore user_$hba/lib0.drive0); one backstore per device"

step "exported over tcm_loop with targetcli, it is vtld's drive0"
bs=$(compgen -G "/sys/kernel/config/target/core/user_*/lib0.drive0")
echo 0 >"$bs/attrib/cmd_time_out"
echo 1 >"$bs/attrib/tmr_notification"
tcli_ok /loopback create
[[ $TCLI_OUT =~ (naa\.[0-9a-f]+) ]] || fail "no tcm_loop WWN in: $TCLI_OUT"
wwn=${BASH_REMATCH[1]}
tcli_ok "/loopback/$wwn/luns" create /backstores/user:vtl/lib0.drive0
tape_sg() { lsscsi -g | awk '$2 == "tape" { print $NF; exit }'; }
has_tape() { [[ -n $(tape_sg) ]]; }
wait_for 60 "the tape device through tcm_loop" has_tape
sg=$(tape_sg)
lsscsi -g
check_inquiry drive0 "$sg"
tcli_ok ls /backstores/user:vtl
[[ $TCLI_OUT == *"o- lib0.drive0 "* ]] || fail "targetcli does not list lib0.drive0 under user:vtl"

step "tcmu-runner restarts: vtld registers again, and tcmu-runner leaves vtld's device alone"
kill -TERM "$RUNNER_PID"
wait "$RUNNER_PID" || true
wait_for 20 "vtld sees tcmu-runner leave" grep -q "tcmu-runner left the bus" "$VLOG"
n=$(registrations)
((n == 1)) || fail "$n registrations before the restart, expected 1"
start_runner
wait_for 30 "vtld's second registration" registered_twice
holds "$VTLD_PID" "$uio" || fail "vtld no longer holds /dev/$uio"
holds "$RUNNER_PID" "$uio" && fail "the restarted tcmu-runner holds /dev/$uio"
tcli_ok refresh
tcli_ok ls /backstores 1
[[ $TCLI_OUT == *"o- user:vtl "* ]] || fail "targetcli does not list user:vtl after tcmu-runner restarted"
check_inquiry drive0 "$sg"

step "the system bus goes away: vtld keeps serving"
stop_tcli
kill -TERM "$RUNNER_PID"
wait "$RUNNER_PID" || true
RUNNER_PID=""
kill -TERM "$DBUS_PID"
wait "$DBUS_PID" || true
DBUS_PID=""
wait_for 20 "vtld sees the bus go" grep -q "connection to the bus lost" "$VLOG"
check_inquiry drive0 "$sg"
check_not_ready "$sg"

dmesg | grep -E 'Oops|BUG:' && fail "the kernel oopsed"

step "remove the LIO objects, SIGTERM vtld"
/usr/bin/python3 -c 'from rtslib_fb import RTSRoot; RTSRoot().clear_existing(confirm=True)' ||
    fail "rtslib could not remove the LIO objects"
trap - EXIT
stop_vtld
