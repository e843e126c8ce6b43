#!/usr/bin/env bash
# The field's bridge failure through the host's own changer clients (issue 8): a robot recovery
# (13 s) longer than the ADI bridge's timer (12 s, configs/bridge.toml) on drive0's LUN 1.
# - mtx -f <bridged sg> transfer: MOVE MEDIUM ends in CHECK CONDITION 0B/08/01 after the timer;
#   mtx prints that sense and exits 1; the robot finishes the move anyway (abort policy
#   `complete`) and READ ELEMENT STATUS shows the cartridge at the destination.
# - the ch driver bound to the bridged changer (CHIOMOVE): ch_find_errno has no entry for 0B/08/01
#   (its table maps only 05/21/01, 05/28/01, 05/3B/0D, 05/3B/0E and 05/20/00), so the ioctl fails
#   with EIO; the midlayer does not retry it (SG_IO and ch's commands are passthrough requests,
#   which scsi_noretry_cmd never retries after a CHECK CONDITION): vtld forwarded it once.
# - the same recovery with asynchronous moves (vtl-move --async, two clients at once, one behind
#   the other in the robot's queue): no command fails, both moves complete.
# shellcheck source=tests/vm/lib.bash
source "$(dirname "$0")/lib.bash"

CONFIG=$VTL_REPO/tests/vm/configs/bridge.toml
SOCKET=/tmp/vtl-92.sock
require_vtld_tcmu
VTL_MOVE=${VTL_MOVE:-$(dirname "$VTLD")/client/vtl-move}
[[ -x $VTL_MOVE ]] || VTL_MOVE=$(ls -t "$VTL_REPO"/build/*/handler/client/vtl-move 2>/dev/null | head -n 1)
VTLCTL=${VTLCTL:-$(dirname "$VTLD")/vtlctl}
[[ -x $VTL_MOVE ]] || fail "no vtl-move binary (build the vtl-move target)"
[[ -x $VTLCTL ]] || fail "no vtlctl next to $VTLD"
BRIDGE_TIMER=12 # [library.bridge] timeout of the config
RECOVERY=13
OPS=(--move-opcode 0xD5 --query-opcode 0xD6)
T0=$SECONDS

step "modules"
load_lio_modules
library_layout "$CONFIG"
rm -rf "/tmp/vtl-state/$LIB_NAME"

step "start $VTLD --config ${CONFIG#"$VTL_REPO"/}; scripts/lio up (tcm_loop)"
start_vtld --config "$CONFIG" --control-socket "$SOCKET"
trap '"$LIO" down --all -q 2>/dev/null || true; kill -TERM "$VTLD_PID" 2>/dev/null || true' EXIT
expect "lio up" "$LIO" up --vtld "$VTLD" --config "$CONFIG" --handler-wait 60 >/dev/null
sg=$(expect "changer sg node" "$LIO" dev "$LIB_NAME/changer" sg)
dhctl=$(expect "drive0 hctl" "$LIO" dev "$LIB_NAME/drive0" hctl)
bhctl=${dhctl%:*}:1
bsg="" bsch=""
for n in /sys/bus/scsi/devices/"$bhctl"/scsi_generic/sg*; do [[ -e $n ]] && bsg=/dev/${n##*/}; done
[[ -n $bsg ]] || fail "no SCSI generic node at $bhctl (drive0's LUN 1)"
# ch binds asynchronously after the scan: wait for its node on the bridged LUN.
bridged_sch() {
    local c
    for c in /sys/class/scsi_changer/sch*; do
        [[ $(readlink -f "$c/device") == $(readlink -f "/sys/bus/scsi/devices/$bhctl") ]] && { echo "/dev/${c##*/}"; return 0; }
    done
    return 1
}
wait_for 60 "the ch driver binds the bridged changer at $bhctl" bridged_sch
bsch=$(bridged_sch)
lsscsi -g | tee "$TEST_OUT/lsscsi.txt"
check_ch_binding "$bsg" "$bsch"
echo "direct changer $sg; bridged changer $bsg $bsch at [$bhctl]"
unit_ready "$sg"
unit_ready "$bsg"
S1=$(slot_addr 1) S2=$(slot_addr 2) S3=$(slot_addr 3) S4=$(slot_addr 4) S5=$(slot_addr 5) S6=$(slot_addr 6)
S7=$(slot_addr 7) S8=$(slot_addr 8)

ctl() { "$VTLCTL" --socket "$SOCKET" "$@"; }
add_recovery() {
    expect "vtlctl fault add" ctl fault add --json \
        "{\"device\":\"$LIB_NAME\",\"slot\":$1,\"action\":\"robot_recovery\",\"recovery\":\"${RECOVERY}s\",\"count\":1}" >/dev/null
    echo "fault: ${RECOVERY} s robot recovery on the next motion touching slot $1"
}
element_is() {
    element_at "$sg" "$1"
    printf 'element 0x%04X: full=%s tag=%s src=%s\n' "$1" "$ELEM_FULL" "${ELEM_TAG:--}" "${ELEM_SRC:--}"
    [[ $ELEM_FULL == "$2" && $ELEM_TAG == "$3" ]] ||
        fail "element 0x$(printf %04X "$1"): full=$ELEM_FULL tag='$ELEM_TAG', expected full=$2 tag='$3'"
    [[ -z ${4:-} || $ELEM_SRC == "$4" ]] || fail "element 0x$(printf %04X "$1"): source '$ELEM_SRC', expected $4"
}
# wait_full ADDRESS SECONDS: the robot puts a cartridge there (abort policy complete).
wait_full() {
    local deadline=$((SECONDS + $2))
    until element_at "$sg" "$1" && ((ELEM_FULL == 1)); do
        ((SECONDS < deadline)) || fail "element 0x$(printf %04X "$1") still empty $2 s later"
        sleep 0.5
    done
}
timeouts() { grep -c "bridge timer (${BRIDGE_TIMER} s) ran out" "$TEST_OUT/vtld.log" || true; }
forwarded_moves() { grep -cE 'tag=0x[0-9a-f]+ MOVE MEDIUM forwarded to the library' "$TEST_OUT/vtld.log" || true; }

step "mtx -f $bsg transfer 1 5 (bridged LUN 1), ${RECOVERY} s recovery: 0B/08/01 after ${BRIDGE_TIMER} s"
add_recovery 1
before_fwd=$(forwarded_moves) before_to=$(timeouts)
t=${EPOCHREALTIME/./}
rc=0
out=$(mtx -f "$bsg" transfer 1 5 2>&1) || rc=$?
ms=$(ms_since "$t")
echo "mtx transfer 1 5: exit $rc after $ms ms"
echo "$out" | sed 's/^/  | /'
((rc == 1)) || fail "mtx transfer through the bridge exited $rc, expected 1"
for want in "mtx: Request Sense: Error Code=70 (Current)" \
    "mtx: Request Sense: Sense Key=Aborted Command" \
    "mtx: Request Sense: Additional Sense Code = 08" \
    "mtx: Request Sense: Additional Sense Qualifier = 01"; do
    grep -qxF "$want" <<<"$out" || fail "mtx did not print '$want'"
done
((ms >= (BRIDGE_TIMER - 1) * 1000 && ms < (BRIDGE_TIMER + 6) * 1000)) || fail "0B/08/01 after $ms ms; the timer is ${BRIDGE_TIMER} s"
(($(timeouts) == before_to + 1 && $(forwarded_moves) == before_fwd + 1)) ||
    fail "vtld forwarded $(($(forwarded_moves) - before_fwd)) MOVE MEDIUM(s) and timed out $(($(timeouts) - before_to)), expected 1 and 1"
wait_full "$S5" $((RECOVERY + 10))
echo "the robot completed the move $(ms_since "$t") ms after it began (abort policy complete)"
element_is "$S5" 1 BRG001L8 "$S1"
element_is "$S1" 0 ""

step "the ch driver: CHIOMOVE st 1 -> st 5 (slot 2 -> slot 6) on $bsch, ${RECOVERY} s recovery"
add_recovery 2
before_fwd=$(forwarded_moves) before_to=$(timeouts)
t=${EPOCHREALTIME/./}
rc=0
out=$(chio "$bsch" move st 1 st 5 2>&1) || rc=$?
ms=$(ms_since "$t")
echo "CHIOMOVE: '$out' (exit $rc) after $ms ms"
[[ $rc == 1 && $out == EIO ]] || fail "CHIOMOVE through the bridge: '$out', expected EIO (0B/08/01 is not in ch_find_errno's table)"
((ms >= (BRIDGE_TIMER - 1) * 1000 && ms < (BRIDGE_TIMER + 6) * 1000)) || fail "EIO after $ms ms; the timer is ${BRIDGE_TIMER} s"
(($(timeouts) == before_to + 1 && $(forwarded_moves) == before_fwd + 1)) ||
    fail "vtld forwarded $(($(forwarded_moves) - before_fwd)) MOVE MEDIUM(s) for one CHIOMOVE (timed out $(($(timeouts) - before_to))): the midlayer retried?"
dmesg | grep -E 'ch[0-9]|sch[0-9]' | tail -n 3 || true
wait_full "$S6" $((RECOVERY + 10))
echo "the robot completed the move $(ms_since "$t") ms after it began"
element_is "$S6" 1 BRG002L8 "$S2"
element_is "$S2" 0 ""
out=$(chio "$bsch" elem st 5) || fail "CHIOGELEM st 5"
echo "CHIOGELEM st 5 through $bsch: $out"
[[ $out == "full tag=BRG002L8 src=st1" ]] || fail "CHIOGELEM st 5: '$out', expected full, BRG002L8 from st1"

step "asynchronous moves, same recovery: slot 3 -> 7 and slot 4 -> 8 at once through $bsg"
add_recovery 3
before_to=$(timeouts)
t=${EPOCHREALTIME/./}
"$VTL_MOVE" "$bsg" "$S3" "$S7" --async "${OPS[@]}" --wait 5 --json >"$TEST_OUT/async-a.json" 2>&1 &
pa=$!
sleep 0.5
"$VTL_MOVE" "$bsg" "$S4" "$S8" --async "${OPS[@]}" --wait 5 --json >"$TEST_OUT/async-b.json" 2>&1 &
pb=$!
ra=0 rb=0
wait "$pa" || ra=$?
wait "$pb" || rb=$?
ms=$(ms_since "$t")
for f in a b; do sed "s/^/  $f | /" "$TEST_OUT/async-$f.json"; done
echo "vtl-move --async: exits $ra and $rb, both done after $ms ms"
((ra == 0 && rb == 0)) || fail "asynchronous moves through the bridge exited $ra and $rb"
for f in a b; do
    steps=$(jq -s -c '[.[] | .step] | {failed: (map(select(. == "failed" or . == "retry")) | length), completed: (map(select(. == "completed")) | length)}' "$TEST_OUT/async-$f.json")
    [[ $steps == '{"failed":0,"completed":1}' ]] || fail "client $f: $steps"
done
(($(timeouts) == before_to)) || fail "the bridge timer ran out $(($(timeouts) - before_to)) time(s) during asynchronous moves"
((ms > BRIDGE_TIMER * 1000)) || fail "the asynchronous moves took $ms ms, not longer than the timer: the test proves nothing"
element_is "$S7" 1 BRG003L8 "$S3"
element_is "$S8" 1 BRG004L8 "$S4"
element_is "$S3" 0 ""
element_is "$S4" 0 ""
unit_ready "$bsg"

step "scripts/lio down, SIGTERM vtld"
expect "lio down" "$LIO" down
trap - EXIT
stop_vtld
echo "92-bridge-stories passed in $((SECONDS - T0)) s"
