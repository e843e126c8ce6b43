#!/usr/bin/env bash
# Aborts through the kernel (tcm_loop). A move to the import/export station takes about 24 s of
# robot time (tests/vm/configs/abort.toml); the host gives up on it after 3 s (sg_raw -t 3): the
# SCSI midlayer's ABORT TASK goes through LIO to vtld as a TMR entry, vtld completes the command at
# once, LIO finishes the TMR, and the host gets its answer (DID_TIME_OUT) long before the robot
# ends. The changer keeps answering while the robot works. A second move waits behind the first;
# a LUN RESET (sg_reset -d) reaches vtld, withdraws the waiting move (nothing moves) and raises
# 29/03. The aborted move follows the abort policy `complete`: READ ELEMENT STATUS afterwards shows
# its cartridge at the destination, the withdrawn one where it was; a move after all this works.
# shellcheck source=tests/vm/lib.bash
source "$(dirname "$0")/lib.bash"

CONFIG=$VTL_REPO/tests/vm/configs/abort.toml
require_vtld_tcmu
step "modules"
load_lio_modules
library_layout "$CONFIG"
rm -rf "/tmp/vtl-state/$LIB_NAME"
# The slow move: slot -> I/E costs ie_to_slot twice (to the cartridge and back) plus pick and place.
ROBOT_MS=24400   # 2 x (12 s + 0.2 s)
IE1=s$((N_SLOTS + 1)) IE2=s$((N_SLOTS + 2))

step "start $VTLD --config ${CONFIG#"$VTL_REPO"/}, scripts/lio up"
start_vtld --config "$CONFIG"
trap '"$LIO" down --all -q 2>/dev/null || true; kill -TERM "$VTLD_PID" 2>/dev/null || true' EXIT
expect "lio up" "$LIO" up --vtld "$VTLD" --config "$CONFIG" --handler-wait 60 >/dev/null
sg=$(expect "changer sg node" "$LIO" dev "$LIB_NAME/changer" sg)
echo "changer $sg"
unit_ready "$sg"
mtx_status "$sg"
EXP=()
for k in "${!INV[@]}"; do EXP[$k]=-; done
EXP[s1]=ABT001L8 EXP[s2]=ABT002L8 EXP[s3]=ABT003L8
expect_model "the configured inventory"
vtld_log() { grep -E "$1" "$TEST_OUT/vtld.log"; }
aborts_before=$(dmesg | grep -c 'ABORT_TASK: Sending TMR_FUNCTION_COMPLETE' || true)

step "ABORT TASK: MOVE MEDIUM slot 1 -> I/E 1 (~$((ROBOT_MS / 1000)) s of robot time); the host gives up after 3 s"
read -r -a cdb <<<"$(move_cdb "$(slot_addr 1)" "$(ie_addr 1)")"
tA=${EPOCHREALTIME/./}
scsi "$sg" 3 "${cdb[@]}"
msA=$(ms_since "$tA")
echo "sg_raw -t 3 [${cdb[*]}]: exit $SCSI_RC after $msA ms"
grep -E 'transport error|Host_status|SCSI Status' <<<"$SCSI_OUT" || true
((SCSI_RC != 0)) || { echo "$SCSI_OUT"; fail "the move the host gave up on ended with success"; }
[[ $SCSI_OUT == *DID_TIME_OUT* ]] || { echo "$SCSI_OUT"; fail "the host did not see its own timeout (DID_TIME_OUT)"; }
((msA < 15000)) || fail "the host waited $msA ms: the abort did not end the command (the robot needs $ROBOT_MS ms)"
wait_for 10 "vtld logs the ABORT TASK" vtld_log 'ABORT TASK for tag'
vtld_log 'ABORT TASK for tag|policy complete|tag=0x[0-9a-f]+ aborted'
vtld_log 'policy complete, the robot finishes it' >/dev/null || fail "vtld did not hand the aborted move to the abort policy"
aborts=$(dmesg | grep -c 'ABORT_TASK: Sending TMR_FUNCTION_COMPLETE' || true)
dmesg | grep 'ABORT_TASK' | tail -n 2
((aborts > aborts_before)) || fail "LIO did not complete the ABORT TASK (no TMR_FUNCTION_COMPLETE in dmesg)"

step "the changer answers while the robot finishes the aborted move"
unit_ready "$sg"
expect "sg_inq" sg_inq "$sg" | grep -E 'Vendor|Product identification'
t=${EPOCHREALTIME/./}
mtx_status "$sg"
echo "mtx status answered in $(ms_since "$t") ms, $(ms_since "$tA") ms into the move: $INV_LINE"
[[ ${INV[$IE1]} == - ]] || fail "I/E 1 is already full $(ms_since "$tA") ms into a move of $ROBOT_MS ms"
element_at "$sg" "$A_MT"
robot="full=$ELEM_FULL tag=$ELEM_TAG"
echo "slot 1: ${INV[s1]}; robot (0x$(printf %04X "$A_MT")): $robot"
if [[ ${INV[s1]} == ABT001L8 ]]; then
    [[ $ELEM_FULL == 0 ]] || fail "ABT001L8 is in slot 1 and the robot holds '$ELEM_TAG'"
else
    [[ ${INV[s1]} == - && $ELEM_FULL == 1 && $ELEM_TAG == ABT001L8 ]] ||
        fail "ABT001L8 is neither in slot 1 nor in the robot (slot 1: ${INV[s1]}, robot: $robot)"
fi

step "LUN RESET (sg_reset -d) while a second move (slot 2 -> I/E 2) waits for the robot"
read -r -a cdb <<<"$(move_cdb "$(slot_addr 2)" "$(ie_addr 2)")"
(
    t=${EPOCHREALTIME/./}
    rc=0
    sg_raw -v -t 60 "$sg" "${cdb[@]}" >"$TEST_OUT/move-b.txt" 2>&1 || rc=$?
    echo "exit $rc after $(ms_since "$t") ms" >>"$TEST_OUT/move-b.txt"
) &
moveB=$!
second_move_taken() { (($(grep -c "MOVE MEDIUM start" "$TEST_OUT/vtld.log") >= 2)); }
moveB_answered() { ! kill -0 "$moveB" 2>/dev/null; }
wait_for 10 "vtld takes the second MOVE MEDIUM" second_move_taken
sleep 0.5
t=${EPOCHREALTIME/./}
expect "sg_reset -d" sg_reset -d "$sg" >/dev/null
echo "sg_reset -d: done after $(ms_since "$t") ms"
wait_for 15 "the waiting move is answered after the reset" moveB_answered
wait "$moveB" || true
echo "second move: $(grep -E 'SCSI Status|Host_status|Sense key|^exit' "$TEST_OUT/move-b.txt" | tr '\n' ' ')"
# tcm_loop answers a command that a LUN RESET from the same nexus aborted with status GOOD
# (LIO sends no TASK ABORTED status then, and tcm_loop's release_cmd completes the SCSI command
# with result 0): the status says nothing about the move; the inventory below does.
wait_for 10 "vtld logs the LUN RESET" vtld_log 'LOGICAL UNIT RESET for tag'
vtld_log 'LOGICAL UNIT RESET|removed from the robot queue'
vtld_log 'removed from the robot queue; nothing moved' >/dev/null ||
    fail "the LUN RESET did not withdraw the move waiting for the robot"
unit_ready "$sg"
[[ $UNIT_READY_NOTES == *"Bus device reset function occurred"* ]] ||
    fail "no UNIT ATTENTION 29/03 after the LUN RESET (saw:${UNIT_READY_NOTES:- nothing})"
echo "reset handled and the changer ready $(ms_since "$tA") ms into the aborted move"
((${EPOCHREALTIME/./} - tA < ROBOT_MS * 1000)) || fail "the reset came after the first move's end: the timings do not fit this machine"

step "a move after the abort and the reset: mtx transfer 3 5 (waits for the robot)"
mtx_do "$sg" transfer 3 5
msC=$(ms_since "$tA")
echo "mtx transfer 3 5 returned $msC ms after the aborted move began"
((msC >= ROBOT_MS)) || fail "the robot was free after $msC ms: the aborted move did not run its $ROBOT_MS ms"
vtld_log 'aborted operation [0-9]+ ended' || fail "vtld did not log the end of the aborted move"

step "READ ELEMENT STATUS: the aborted move completed (policy complete), the withdrawn one did not move"
mtx_status "$sg"
echo "$MTX_OUT"
exp_move s1 "$IE1"
exp_move s3 s5
expect_model "after the abort, the reset and the transfer"
[[ ${INV[s2]} == ABT002L8 && ${INV[$IE2]} == - ]] || fail "the withdrawn move changed something"
element_at "$sg" "$A_MT"
[[ $ELEM_FULL == 0 ]] || fail "the robot still holds '$ELEM_TAG'"
element_at "$sg" "$(ie_addr 1)"
echo "I/E 1 (0x$(printf %04X "$(ie_addr 1)")): full=$ELEM_FULL tag=$ELEM_TAG source=$(printf 0x%04X "${ELEM_SRC:-0}")"
[[ $ELEM_FULL == 1 && $ELEM_TAG == ABT001L8 && ${ELEM_SRC:-} == "$(slot_addr 1)" ]] ||
    fail "READ ELEMENT STATUS of I/E 1: full=$ELEM_FULL tag=$ELEM_TAG source=${ELEM_SRC:-none}, expected ABT001L8 from slot 1"
unit_ready "$sg"

step "scripts/lio down, SIGTERM vtld"
expect "lio down" "$LIO" down
trap - EXIT
stop_vtld
