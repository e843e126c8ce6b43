#!/usr/bin/env bash
# Asynchronous moves and the ADI bridge through the kernel, with the host-side client vtl-move
# (handler/client) over tcm_loop and iSCSI. Library: tests/vm/configs/bridge.toml (bridge timer 12 s, async
# opcodes D5h/D6h, drive0 exports the changer as its LUN 1).
# - On the direct changer LUN: a synchronous move (MOVE MEDIUM), an asynchronous one (ASYNC MOVE
#   MEDIUM + MOVE QUERY) and a refused one (05/3B/0E, exit 1), each checked with READ ELEMENT STATUS.
# - On drive0's LUN 1 (the bridge): INQUIRY is a changer's; a synchronous move held by a 13 s robot
#   recovery (vtlctl fault add, robot_recovery) ends in 0B/08/01 after the 12 s timer, the robot
#   finishes it anyway (abort policy complete) and READ ELEMENT STATUS shows where the cartridge went,
#   while drive0's LUN 0 writes and reads data meanwhile; the same move with --async succeeds, its
#   queries each answered within WAIT TIME.
# - Over iSCSI with libiscsi (vtl-move's own initiator): an asynchronous move on the changer's LUN,
#   a synchronous one through the bridged changer's LUN, and a portal nobody serves (exit 2).
# - A token outlives its session and a LUN reset: an async move accepted over iSCSI, the client
#   killed (session loss), LUN RESET on the changer, then the token resumed through sg to its end.
# shellcheck source=tests/vm/lib.bash
source "$(dirname "$0")/lib.bash"

CONFIG=$VTL_REPO/tests/vm/configs/bridge.toml
SOCKET=/tmp/vtl-90.sock
require_vtld_tcmu
# The client built with that vtld (scripts/test: the ASan build), else the newest one.
VTL_MOVE=${VTL_MOVE:-$(dirname "$VTLD")/client/vtl-move}
[[ -x $VTL_MOVE ]] || VTL_MOVE=$(ls -t "$VTL_REPO"/build/*/handler/client/vtl-move 2>/dev/null | head -n 1)
VTLCTL=${VTLCTL:-$(dirname "$VTLD")/vtlctl}
[[ -x $VTL_MOVE ]] || fail "no vtl-move binary (build the vtl-move target)"
echo "client: $VTL_MOVE"
[[ -x $VTLCTL ]] || fail "no vtlctl next to $VTLD"
BRIDGE_TIMER=12   # [library.bridge] timeout of the config
RECOVERY=13       # the robot recovery the test adds, longer than the timer
OPS=(--move-opcode 0xD5 --query-opcode 0xD6)

step "modules"
load_lio_modules iscsi_target_mod
library_layout "$CONFIG"
rm -rf "/tmp/vtl-state/$LIB_NAME"

step "start $VTLD --config ${CONFIG#"$VTL_REPO"/}"
start_vtld --config "$CONFIG" --control-socket "$SOCKET"
trap '"$LIO" down --all -q 2>/dev/null || true; kill -TERM "$VTLD_PID" 2>/dev/null || true' EXIT

step "scripts/lio up --config --fabric loop,iscsi"
expect "lio up" "$LIO" up --vtld "$VTLD" --config "$CONFIG" --fabric loop,iscsi --handler-wait 60
lsscsi -g | tee "$TEST_OUT/lsscsi.txt"
sg=$(expect "changer sg node" "$LIO" dev "$LIB_NAME/changer" sg)
dsg=$(expect "drive0 sg node" "$LIO" dev "$LIB_NAME/drive0" sg)
dnst=$(expect "drive0 nst node" "$LIO" dev "$LIB_NAME/drive0" nst)
dhctl=$(expect "drive0 hctl" "$LIO" dev "$LIB_NAME/drive0" hctl)
# The bridged changer: LUN 1 of drive0's own target.
bhctl=${dhctl%:*}:1
bsg=""
for n in /sys/bus/scsi/devices/"$bhctl"/scsi_generic/sg*; do [[ -e $n ]] && bsg=/dev/${n##*/}; done
[[ -n $bsg ]] || fail "no SCSI generic node at $bhctl (drive0's LUN 1): the bridged changer is not exported"
grep -qE "^\[$bhctl\] +mediumx " "$TEST_OUT/lsscsi.txt" || fail "lsscsi does not show a mediumx at [$bhctl]"
echo "direct changer $sg; drive0 $dsg $dnst at [$dhctl]; bridged changer $bsg at [$bhctl]"
unit_ready "$sg"
unit_ready "$bsg"

S1=$(slot_addr 1) S2=$(slot_addr 2) S3=$(slot_addr 3) S4=$(slot_addr 4) S5=$(slot_addr 5) S6=$(slot_addr 6)
S7=$(slot_addr 7) S8=$(slot_addr 8)
D0=$(drive_addr 0)

# element_is ADDRESS FULL TAG [SOURCE]: READ ELEMENT STATUS through the direct changer.
element_is() {
    element_at "$sg" "$1"
    printf 'element 0x%04X: full=%s tag=%s src=%s\n' "$1" "$ELEM_FULL" "${ELEM_TAG:--}" "${ELEM_SRC:--}"
    [[ $ELEM_FULL == "$2" && $ELEM_TAG == "$3" ]] ||
        fail "element 0x$(printf %04X "$1"): full=$ELEM_FULL tag='$ELEM_TAG', expected full=$2 tag='$3'"
    [[ -z ${4:-} || $ELEM_SRC == "$4" ]] || fail "element 0x$(printf %04X "$1"): source '$ELEM_SRC', expected $4"
}

# move_client OUT ARGS...: vtl-move ARGS, output kept in $TEST_OUT/OUT; sets MOVE_RC, MOVE_OUT, MOVE_S.
move_client() {
    local out=$TEST_OUT/$1 t0=${EPOCHREALTIME/./}
    shift
    MOVE_RC=0
    "$VTL_MOVE" "$@" >"$out" 2>&1 || MOVE_RC=$?
    MOVE_S=$((($(ms_since "$t0") + 500) / 1000))
    MOVE_OUT=$(<"$out")
    echo "vtl-move $*: exit $MOVE_RC after ${MOVE_S} s"
    show "$MOVE_OUT"
}
show() { local l; while IFS= read -r l; do echo "  | $l"; done <<<"$1"; }
# any_line EXPR: some JSON line of MOVE_OUT makes EXPR true (jq 1.6's -e judges only the last input).
any_line() { jq -s -e "any(.[]; $1)" <<<"$MOVE_OUT" >/dev/null; }
# json_steps STEP: how many JSON lines of MOVE_OUT are that step.
json_steps() { jq -c "select(.step == \"$1\")" <<<"$MOVE_OUT" | wc -l; }

step "direct changer: synchronous move slot 1 -> drive 0 (MOVE MEDIUM)"
move_client sync-load.txt "$sg" "$S1" "$D0"
((MOVE_RC == 0)) || fail "vtl-move (sync) exited $MOVE_RC"
[[ $MOVE_OUT == *"done: MOVE MEDIUM GOOD"* ]] || fail "vtl-move (sync) did not print the GOOD step"
element_is "$S1" 0 ""
element_is "$D0" 1 BRG001L8 "$S1"
unit_ready "$dsg" 30

step "direct changer: asynchronous move drive 0 -> slot 1 (hex addresses, JSON, element status)"
move_client async-unload.json "$sg" "$(printf 0x%04X "$D0")" "$(printf 0x%04X "$S1")" --async "${OPS[@]}" \
    --wait 5 --release --element-status --json
((MOVE_RC == 0)) || fail "vtl-move --async exited $MOVE_RC"
jq -s -e 'length > 0' <<<"$MOVE_OUT" >/dev/null || fail "vtl-move --json printed something that is not JSON lines"
(($(json_steps accepted) == 1 && $(json_steps completed) == 1 && $(json_steps failed) == 0)) ||
    fail "expected one accepted and one completed step"
token=$(jq -r 'select(.step == "accepted") | .token' <<<"$MOVE_OUT")
any_line ".step == \"completed\" and .status.state == 2 and .status.token == $token and .status.source == $D0 and .status.destination == $S1" || fail "the completed step's status block is not state 2, token $token, $D0 -> $S1"
# --element-status: the drive is empty, the slot holds the cartridge, which came from the drive.
any_line ".step == \"element\" and .address == $D0 and .full == false" ||
    fail "vtl-move --element-status does not show drive 0 empty"
any_line ".step == \"element\" and .address == $S1 and .full and .volume_tag == \"BRG001L8\" and .type == \"slot\"" || fail "vtl-move --element-status does not show BRG001L8 in slot 1"
element_is "$S1" 1 BRG001L8
element_is "$D0" 0 ""
# The token was released with its final result: it is unknown now (05/24/00, exit 1).
move_client released.txt "$sg" 0 0 --resume "$token" "${OPS[@]}" --wait 0
((MOVE_RC == 1)) || fail "a query of released token $token exited $MOVE_RC, expected 1"
[[ $MOVE_OUT == *"ILLEGAL REQUEST 05/24/00 INVALID FIELD IN CDB"*"field pointer byte 2"* ]] ||
    fail "a released token is not refused with 05/24/00 pointing at byte 2"

step "direct changer: asynchronous move from empty slot 5: refused at once, no token"
move_client refused.txt "$sg" "$S5" "$S6" --async "${OPS[@]}"
((MOVE_RC == 1)) || fail "vtl-move --async from an empty slot exited $MOVE_RC, expected 1"
[[ $MOVE_OUT == *"failed: ASYNC MOVE MEDIUM: ILLEGAL REQUEST 05/3B/0E MEDIUM SOURCE ELEMENT EMPTY"* ]] ||
    fail "the refusal is not 05/3B/0E"
[[ $MOVE_OUT != *accepted* ]] || fail "a refused move printed a token"

step "direct changer: the default opcodes C5h/C6h are not this library's (05/20/00)"
move_client wrong-opcode.txt "$sg" "$S2" "$S6" --async
((MOVE_RC == 1)) || fail "vtl-move --async with opcode C5h exited $MOVE_RC, expected 1"
[[ $MOVE_OUT == *"05/20/00 INVALID COMMAND OPERATION CODE"* ]] || fail "opcode C5h is not refused with 05/20/00"
element_is "$S2" 1 BRG002L8

step "bridged LUN 1: INQUIRY answered by the drive as a changer (peripheral type 08h)"
out=$(expect "sg_inq $bsg" sg_inq "$bsg")
grep -qi "medium changer" <<<"$out" || { echo "$out"; fail "INQUIRY of $bsg is not a medium changer's"; }

# A 13 s robot recovery on the next move touching `slot`: longer than the bridge's 12 s timer.
add_recovery() {
    expect "vtlctl fault add" "$VTLCTL" --socket "$SOCKET" fault add --json \
        "{\"device\":\"$LIB_NAME\",\"slot\":$1,\"action\":\"robot_recovery\",\"recovery\":\"${RECOVERY}s\",\"count\":1}"
}

step "bridged LUN 1: synchronous move slot 2 -> slot 6 with a ${RECOVERY} s robot recovery: 0B/08/01 after ${BRIDGE_TIMER} s"
# drive0 holds a cartridge for the data path check below.
move_client sync-load2.txt "$sg" "$S1" "$D0"
((MOVE_RC == 0)) || fail "loading drive 0 for the data path check failed"
unit_ready "$dsg" 30
add_recovery 2
t0=${EPOCHREALTIME/./}
"$VTL_MOVE" "$bsg" "$S2" "$S6" --timeout 120 --json >"$TEST_OUT/bridge-sync.json" 2>&1 &
move_pid=$!
sleep 1
# drive0's LUN 0 keeps reading and writing while its LUN 1 waits for the library.
head -c 4194304 /dev/urandom >/tmp/90-data
expect "mt rewind" mt -f "$dnst" rewind >/dev/null
expect "dd to $dnst" dd if=/tmp/90-data of="$dnst" bs=256k status=none
expect "mt rewind" mt -f "$dnst" rewind >/dev/null
expect "dd from $dnst" dd if="$dnst" of=/tmp/90-back bs=256k status=none
cmp /tmp/90-data /tmp/90-back || fail "4 MiB written to $dnst during the bridged move read back different"
io_ms=$(ms_since "$t0")
kill -0 "$move_pid" 2>/dev/null || fail "the bridged move ended before the data round trip did (${io_ms} ms)"
echo "drive0 LUN 0: 4 MiB written and read back identical ${io_ms} ms into the bridged move"
rc=0
wait "$move_pid" || rc=$?
ms=$(ms_since "$t0")
MOVE_OUT=$(<"$TEST_OUT/bridge-sync.json")
show "$MOVE_OUT"
echo "vtl-move (sync, bridged): exit $rc after $ms ms"
((rc == 1)) || fail "a bridged synchronous move outlasting the timer exited $rc, expected 1"
any_line '.step == "failed" and .sense.sense == "0B/08/01"' ||
    fail "the bridged synchronous move did not fail with 0B/08/01"
((ms >= (BRIDGE_TIMER - 1) * 1000 && ms < (BRIDGE_TIMER + 6) * 1000)) ||
    fail "0B/08/01 came after $ms ms; the bridge timer is $BRIDGE_TIMER s"
# Abort policy complete: the robot finishes the move although the host was told it failed.
deadline=$((SECONDS + RECOVERY + 10))
until element_at "$sg" "$S6" && ((ELEM_FULL == 1)); do
    ((SECONDS < deadline)) || fail "the aborted move's cartridge is not in slot 6 ${RECOVERY} s after the recovery began"
    sleep 0.5
done
echo "the robot finished the move $(ms_since "$t0") ms after it began"
element_is "$S6" 1 BRG002L8
element_is "$S2" 0 ""

step "bridged LUN 1: the same with --async: slot 3 -> slot 7, ${RECOVERY} s recovery, queries with WAIT TIME 5 s"
add_recovery 3
move_client bridge-async.json "$bsg" "$S3" "$S7" --async "${OPS[@]}" --wait 5 --element-status --json
((MOVE_RC == 0)) || fail "the bridged asynchronous move exited $MOVE_RC, expected 0"
(($(json_steps failed) == 0 && $(json_steps retry) == 0 && $(json_steps completed) == 1)) ||
    fail "the bridged asynchronous move had failed or repeated commands"
n=$(json_steps in_progress)
((n >= 2)) || fail "only $n 'in progress' answers for a move of more than ${RECOVERY} s with WAIT TIME 5 s"
# Each query answered within its WAIT TIME (plus the transport's own time), none near the timer.
jq -r 'select(.step == "accepted" or .step == "in_progress" or .step == "completed") | .elapsed_s' <<<"$MOVE_OUT" |
    awk -v limit=8 'NR > 1 && $1 - prev > limit { print "query took " $1 - prev " s"; bad = 1 } { prev = $1 } END { exit bad }' ||
    fail "a MOVE QUERY with WAIT TIME 5 s took more than 8 s"
total=$(jq -r 'select(.step == "completed") | .elapsed_s' <<<"$MOVE_OUT")
awk -v t="$total" -v b="$BRIDGE_TIMER" 'BEGIN { exit !(t > b) }' ||
    fail "the asynchronous move took $total s: not longer than the bridge timer, so the test proves nothing"
any_line ".step == \"element\" and .address == $S7 and .full and .volume_tag == \"BRG003L8\"" ||
    fail "vtl-move --element-status does not show BRG003L8 in slot 7"
element_is "$S7" 1 BRG003L8
element_is "$S3" 0 ""
echo "asynchronous move through the bridge: $n queries in progress, done after $total s"

step "mtx status through the bridged LUN agrees"
mtx_status "$bsg"
echo "$INV_LINE"
[[ ${INV[d0]} == BRG001L8 && ${INV[s2]} == - && ${INV[s3]} == - && ${INV[s6]} == BRG002L8 && ${INV[s7]} == BRG003L8 ]] ||
    fail "mtx status through $bsg: $INV_LINE"

# The library's iSCSI target has its devices as LUNs in config order: changer 0, drive0 1,
# drive0-changer (bridged) 2, drive1 3. vtl-move speaks iSCSI itself (libiscsi), no kernel initiator.
IQN=iqn.2003-01.org.linux-iscsi.vtl:$LIB_NAME
step "iSCSI (libiscsi): asynchronous move slot 4 -> slot 8 on the changer, iscsi://127.0.0.1/$IQN/0"
move_client iscsi-async.json "iscsi://127.0.0.1:3260/$IQN/0" "$S4" "$S8" --async "${OPS[@]}" --wait 5 --element-status --json
((MOVE_RC == 0)) || fail "the asynchronous move over iSCSI exited $MOVE_RC"
any_line ".step == \"completed\" and .status.state == 2 and .status.source == $S4 and .status.destination == $S8" ||
    fail "no completed step with the status block of $S4 -> $S8"
any_line ".step == \"element\" and .address == $S8 and .full and .volume_tag == \"BRG004L8\"" ||
    fail "vtl-move --element-status over iSCSI does not show BRG004L8 in slot 8"
element_is "$S8" 1 BRG004L8
element_is "$S4" 0 ""
step "iSCSI (libiscsi): synchronous move slot 8 -> slot 4 through the bridged changer (LUN 2)"
move_client iscsi-sync.txt "iscsi://127.0.0.1:3260/$IQN/2" "$S8" "$S4"
((MOVE_RC == 0)) || fail "the synchronous move over iSCSI through the bridge exited $MOVE_RC"
[[ $MOVE_OUT == *"done: MOVE MEDIUM GOOD"* ]] || fail "no GOOD step"
element_is "$S4" 1 BRG004L8
element_is "$S8" 0 ""
step "a token outlives its iSCSI session and a LUN reset: accepted over iSCSI, resumed through sg"
add_recovery 4
: >"$TEST_OUT/iscsi-killed.json"
"$VTL_MOVE" "iscsi://127.0.0.1:3260/$IQN/0" "$S4" "$S8" --async "${OPS[@]}" --wait 3 --json \
    >"$TEST_OUT/iscsi-killed.json" 2>&1 &
client_pid=$!
deadline=$((SECONDS + 20))
until [[ $(<"$TEST_OUT/iscsi-killed.json") == *'"step":"accepted"'* ]]; do
    ((SECONDS < deadline)) || { cat "$TEST_OUT/iscsi-killed.json"; fail "the iSCSI async move was not accepted in 20 s"; }
    sleep 0.2
done
kill -KILL "$client_pid"   # the session ends without a logout: session loss
wait "$client_pid" 2>/dev/null || true
MOVE_OUT=$(<"$TEST_OUT/iscsi-killed.json")
show "$MOVE_OUT"
token=$(jq -r 'select(.step == "accepted") | .token' <<<"$MOVE_OUT")
expect "sg_reset -d $sg (LUN RESET)" sg_reset -d "$sg"
move_client resumed.json "$sg" "$S4" "$S8" --resume "$token" "${OPS[@]}" --wait 5 --release --json
((MOVE_RC == 0)) || fail "resuming token $token through $sg exited $MOVE_RC"
any_line ".step == \"completed\" and .status.token == $token and .status.source == $S4 and .status.destination == $S8" ||
    fail "the resumed token $token did not end in a status block $S4 -> $S8"
(($(json_steps in_progress) >= 1)) || fail "the move behind token $token had ended before the resume: the test proves nothing"
element_is "$S8" 1 BRG004L8 "$S4"
element_is "$S4" 0 ""

step "iSCSI (libiscsi): no target at the portal is a transport error (exit 2)"
move_client iscsi-noportal.txt "iscsi://127.0.0.1:3261/$IQN/0" "$S4" "$S8"
((MOVE_RC == 2)) || fail "vtl-move on a portal nobody serves exited $MOVE_RC, expected 2"

step "scripts/lio down, SIGTERM vtld"
expect "lio down" "$LIO" down
trap - EXIT
stop_vtld
