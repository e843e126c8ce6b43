#!/usr/bin/env bash
# iSCSI session failures seen from the host: open-iscsi logged in to vtld's library over LIO on
# 127.0.0.1 with noop-out 2+2 s and replacement_timeout 12 s; nftables drops tcp/3260 on the
# guest's input path while dd streams records to the drive through st (fed from a FIFO, so the
# test knows which WRITE is where). 8 s outages: the session goes FAILED and the drive blocked;
# (A1) the WRITE in flight when the connection fails ends in EIO (host byte DID_TRANSPORT_DISRUPTED,
# st retries nothing) and st's filemark at close waits for the relogin; (A2) WRITEs issued while
# the session is FAILED wait and complete after it. (B) a ~19 s outage: at replacement_timeout the
# session is FREE and the drive transport-offline, the queued WRITE and the close's filemark fail
# with EIO and sg_turs fails at once; unblocked, iscsid logs in again, the drive is running, mtx
# status answers, and every acknowledged record reads back byte-exact (nothing more: the aborted
# WRITEs never reached vtld).
# Library: tests/vm/configs/iscsi-failures.toml. 98-netem-digest sources this file.
# shellcheck source=tests/vm/80-tape-loop.sh
source "$(dirname "${BASH_SOURCE[0]}")/80-tape-loop.sh"

TAPE_CONFIG=$VTL_REPO/tests/vm/configs/iscsi-failures.toml
TAPE_LIB=ifail
WORK=/tmp/ifail-work
REC=$((256 * KiB))
NOOP_INTERVAL=2 NOOP_TIMEOUT=2 REPLACEMENT=12 LOGIN_TIMEOUT=3

# ---- helpers (also used by 98-netem-digest)

# ifail_up: vtld with the test library, scripts/lio up --fabric iscsi. Sets IQN; the EXIT trap
# tears everything down. (iscsid and discovery: the first ifail_login.)
IQN=""
ifail_up() {
    step "modules"
    load_lio_modules iscsi_target_mod iscsi_tcp
    tape_setup_work
    step "start $VTLD --config ${TAPE_CONFIG#"$VTL_REPO"/}, scripts/lio up --fabric iscsi"
    start_vtld --config "$TAPE_CONFIG"
    iscsi_library_up "$TAPE_LIB" --config "$TAPE_CONFIG"
    IQN=$iqn # lib.bash's iscsi_cleanup and iscsi_library_down log out from $iqn
    trap ifail_cleanup EXIT
}
ifail_cleanup() {
    unblock_portal 2>/dev/null || true
    tc qdisc del dev lo root 2>/dev/null || true
    iscsi_cleanup
}
# ifail_down: logout, iscsid, lio down, SIGTERM vtld; all must succeed.
ifail_down() {
    iscsi_library_down
    IQN=""
}
# ifail_login [NAME=VALUE...]: node settings, login, the two LUNs (changer, drive); sets CSG DSG
# NST and SESS (the session's sysfs directory).
ifail_login() {
    step "login to $IQN"
    iscsi_login "$IQN" 2 "$@"
    local s
    SESS=""
    for s in /sys/class/iscsi_session/session*; do
        [[ $(<"$s/targetname") == "$IQN" ]] && SESS=$s
    done
    [[ -n $SESS ]] || fail "no /sys/class/iscsi_session for $IQN"
    CSG=$(lun_sg 0) || fail "no changer at LUN 0"
    DSG=$(lun_sg 1) || fail "no drive at LUN 1"
    NST=$(nst_of_sg "$DSG") || fail "st did not bind to $DSG"
    echo "session ${SESS##*/}; changer $CSG; drive0 $DSG $NST"
}
lun_sg() { grep -E "^\[[0-9]+:[0-9]+:[0-9]+:$1\] .*$IQN" "$TEST_OUT/lsscsi.txt" | grep -o '/dev/sg[0-9]*'; }
# conn_timeouts: what the kernel was given (recovery_tmo = replacement_timeout; recv_tmo and
# ping_tmo = noop-out interval and timeout); they must be this test's values.
conn_timeouts() {
    local c
    c=$(echo /sys/class/iscsi_connection/connection"${SESS##*session}":*)
    echo "kernel: recovery_tmo $(<"$SESS/recovery_tmo"), recv_tmo $(<"$c/recv_tmo"), ping_tmo $(<"$c/ping_tmo")"
    [[ $(<"$SESS/recovery_tmo") == "$REPLACEMENT" && $(<"$c/recv_tmo") == "$NOOP_INTERVAL" &&
        $(<"$c/ping_tmo") == "$NOOP_TIMEOUT" ]] || fail "the session's timeouts are not the node's"
}
session_state() { cat "$SESS/state"; }
drive_state() { cat "/sys/class/scsi_generic/${DSG##*/}/device/state"; }
# states: one line with the session's and the drive's states and the seconds since BLOCK_T0.
states() { echo "t+$((SECONDS - BLOCK_T0)) s: session $(session_state), drive $(drive_state)"; }
# wait_state SECONDS SESSION-STATE DRIVE-STATE: both, within SECONDS.
wait_state() {
    local deadline=$((SECONDS + $1))
    until [[ $(session_state) == "$2" && $(drive_state) == "$3" ]]; do
        ((SECONDS < deadline)) || fail "not session $2 / drive $3 within $1 s ($(states))"
        sleep 0.2
    done
    states
}

# sleep_until T: until T seconds after BLOCK_T0.
sleep_until() { (($1 <= SECONDS - BLOCK_T0)) || sleep $(($1 - (SECONDS - BLOCK_T0))); }

# The outage: every tcp/3260 packet dropped on input (loopback traffic passes input once, in
# both directions), counted.
block_portal() {
    nft -f - <<'EOF' || fail "nft: cannot add the drop rules"
table inet vtl_outage {
    chain input {
        type filter hook input priority 0; policy accept;
        tcp dport 3260 counter drop
        tcp sport 3260 counter drop
    }
}
EOF
    BLOCK_T0=$SECONDS
    echo "portal blocked (nft table inet vtl_outage)"
}
unblock_portal() {
    local c
    c=$(nft list table inet vtl_outage 2>/dev/null | grep -o 'packets [0-9]*' | awk '{s += $2} END {print s + 0}')
    nft delete table inet vtl_outage || return 1
    echo "portal unblocked after $((SECONDS - BLOCK_T0)) s; $c packets dropped"
    ((c > 0)) || fail "the outage dropped no packet"
}

# fifo_dd NAME COUNT: COUNT random records of $REC bytes in $WORK/NAME; dd writes them to $NST
# as one tape file (st writes its filemark at close), reading a FIFO the test feeds with
# `feed`, so the test decides when each WRITE goes out. Sets DD_PID; dd's stderr in NAME.err.
fifo_dd() {
    head -c $((REC * $2)) /dev/urandom >"$WORK/$1"
    rm -f "$WORK/fifo"
    mkfifo "$WORK/fifo"
    dd if="$WORK/fifo" of="$NST" bs="$REC" iflag=fullblock 2>"$WORK/$1.err" &
    DD_PID=$!
    exec 7>"$WORK/fifo"
    FEED_NAME=$1 FED=0
}
# st's own counters for the drive: WRITE commands completed, and commands in flight.
st_stat() { cat "/sys/class/scsi_tape/${NST##*/}/stats/$1"; }
# feed N [wait]: the next N records into the FIFO; with "wait", until st has completed them.
feed() {
    local want
    want=$(($(st_stat write_cnt) + $1))
    # In the background: a WRITE that waits (blocked queue) stops dd reading the FIFO.
    tail -c +$((FED * REC + 1)) "$WORK/$FEED_NAME" 2>/dev/null | head -c $(($1 * REC)) >&7 2>/dev/null &
    FED=$((FED + $1))
    [[ ${2:-} == wait ]] || return 0
    local deadline=$((SECONDS + 20))
    until (($(st_stat write_cnt) >= want && $(st_stat in_flight) == 0)); do
        ((SECONDS < deadline)) || fail "st did not complete $1 WRITE(s) within 20 s"
        sleep 0.1
    done
}
# in_flight: until st has a command in flight (issued, not completed).
in_flight_now() { (($(st_stat in_flight) >= 1)); }
in_flight() { wait_for 10 "a command in flight on ${NST##*/}" in_flight_now; }
# dd_result [close]: waits for dd (after closing the FIFO with "close"); sets DD_RC and DD_RECS
# (full records dd wrote: acknowledged by the drive).
dd_result() {
    [[ ${1:-} == close ]] && exec 7>&-
    DD_RC=0
    wait "$DD_PID" || DD_RC=$?
    exec 7>&-
    DD_RECS=$(sed -n 's/^\([0-9]*\)+[0-9]* records out$/\1/p' "$WORK/$FEED_NAME.err")
    echo "dd $FEED_NAME: exit $DD_RC, $DD_RECS records acknowledged: $(tr '\n' ' ' <"$WORK/$FEED_NAME.err")"
}
# dd_is RC RECORDS [ERROR]: dd's outcome, exactly. RECORDS "-": dd printed no count (it does not
# when closing the device fails too).
dd_is() {
    [[ $DD_RC == "$1" && $DD_RECS == "${2#-}" ]] || fail "dd $FEED_NAME: exit $DD_RC with $DD_RECS records, expected exit $1 with $2"
    [[ -z ${3:-} ]] || grep -q "$3" "$WORK/$FEED_NAME.err" || fail "dd $FEED_NAME: no '$3' in its errors"
}
# still_running WHAT: dd has not exited.
still_running() { kill -0 "$DD_PID" 2>/dev/null || fail "dd $FEED_NAME exited; expected: $1"; echo "dd $FEED_NAME still running: $1"; }

# readback_file NAME RECORDS [eod]: the next tape file holds exactly the first RECORDS records of
# NAME; with "eod" it ends at end of data instead of a filemark (dd's exit status is printed).
readback_file() {
    local rc=0 out
    rm -f "$WORK/out"
    if [[ ${3:-} == eod ]]; then
        out=$(dd if="$NST" of="$WORK/out" bs=$((2 * REC)) 2>&1) || rc=$?
        echo "\$ dd if=$NST (to end of data): exit $rc: ${out//$'\n'/ | }"
    else
        run dd if="$NST" of="$WORK/out" bs=$((2 * REC))
    fi
    head -c $((REC * $2)) "$WORK/$1" >"$WORK/$1.ack"
    same "tape file of $1 ($2 records)" "$WORK/$1.ack" "$WORK/out"
}

# ---- the test (when run, not when sourced)
if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
    T0=$SECONDS
    require_vtld_tcmu
    ifail_up
    step "node timeouts: noop-out ${NOOP_INTERVAL}+${NOOP_TIMEOUT} s, replacement ${REPLACEMENT} s, login ${LOGIN_TIMEOUT} s"
    ifail_login node.conn[0].timeo.noop_out_interval=$NOOP_INTERVAL \
        node.conn[0].timeo.noop_out_timeout=$NOOP_TIMEOUT \
        node.session.timeo.replacement_timeout=$REPLACEMENT \
        node.conn[0].timeo.login_timeout=$LOGIN_TIMEOUT
    conn_timeouts
    modprobe nf_tables || fail "modprobe nf_tables"
    BLOCK_T0=$SECONDS
    states

    step "mtx load 1 0; file 1: 16 records before any outage"
    load_cartridge "$CSG" "$DSG"
    mt_ok setblk 0
    fifo_dd f1 16
    feed 16 wait
    dd_result close
    dd_is 0 16

    step "(A1) 8 s outage with a WRITE in flight when it starts"
    fifo_dd f2 16
    feed 4 wait
    block_portal
    feed 1
    in_flight
    wait_state 10 FAILED blocked
    sleep_until 8
    unblock_portal
    wait_state 30 LOGGED_IN running
    # st retries nothing: the WRITE the connection failure aborted ends in EIO; the filemark
    # st writes at close waited for the new session.
    dd_result
    dd_is 1 4 "Input/output error"

    step "(A2) 8 s outage, WRITEs issued while the session is FAILED"
    fifo_dd f3 16
    feed 4 wait
    block_portal
    wait_state 10 FAILED blocked
    feed 12
    in_flight
    sleep_until 8
    still_running "its WRITE waits in the blocked queue"
    states
    unblock_portal
    wait_state 30 LOGGED_IN running
    dd_result close
    dd_is 0 16

    step "(B) outage longer than replacement_timeout (${REPLACEMENT} s)"
    fifo_dd f4 16
    feed 4 wait
    block_portal
    wait_state 10 FAILED blocked
    feed 12
    in_flight
    # After recovery_tmo the transport class frees the session and offlines its devices: the
    # queued WRITE fails fast with EIO, and so does any new command.
    wait_state $((REPLACEMENT + 10)) FREE transport-offline
    dd_result
    # ... and st's filemark at close fails as well: the tape file ends at end of data.
    dd_is 1 - "closing output file.*Input/output error"
    grep -q "error writing.*Input/output error" "$WORK/f4.err" || fail "dd f4: its WRITE did not fail with EIO"
    rc=0
    out=$(sg_turs -v "$DSG" 2>&1) || rc=$?
    echo "sg_turs while the drive is transport-offline: exit $rc: ${out//$'\n'/ | }"
    ((rc != 0)) || fail "sg_turs succeeded on a transport-offline drive"
    states
    unblock_portal
    wait_state 60 LOGGED_IN running

    step "the library still serves; every acknowledged record is on tape"
    unit_ready "$DSG" 10
    mtx_status "$CSG"
    [[ ${INV[d0]} == FAIL01L8 ]] || fail "mtx status: drive 0 holds '${INV[d0]}', expected FAIL01L8"
    echo "mtx status: $INV_LINE"
    mt_ok rewind
    readback_file f1 16
    readback_file f2 4
    readback_file f3 16
    readback_file f4 4 eod
    run mt -f "$NST" status
    dmesg | grep -iE 'iscsi|connection[0-9]|st [0-9]|session[0-9]' | tail -n 30 || true
    tape_finish "$CSG"
    ifail_down
    echo "96-iscsi-session passed in $((SECONDS - T0)) s"
fi
