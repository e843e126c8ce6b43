#!/usr/bin/env bash
# A logical unit that stops answering (fault action `hang`), through the kernel (tcm_loop). The
# host's own timeout ends it: on the changer a TEST UNIT READY sent with sg_raw -t 4, on the tape
# drive a READ(6) from dd through st with the device's timeout set to 5 s in sysfs. Each time the
# SCSI midlayer sends ABORT TASK, LIO passes it to vtld as a TMR, vtld ends the held command
# (TASK ABORTED), LIO answers FUNCTION COMPLETE and the host's command fails with DID_TIME_OUT /
# EIO; the device stays `running` and serves the next command (mtx status; the record the aborted
# READ never read comes back identical). Then a LUN RESET (sg_reset -d, the midlayer's device
# reset handler) while a TEST UNIT READY hangs: vtld logs it with the held command's tag, the
# command is answered long before its own 60 s timeout, the host sees UNIT ATTENTION 29/xx, and the
# drive reads again. Library: configs/faults.toml.
#
# Linux escalates from ABORT TASK to LUN RESET only when the abort fails; LIO answers ABORT TASK
# itself once vtld has completed the task, so against a hang the midlayer's timeout handling stops
# at ABORT TASK (the LUN RESET is the one sg_reset asks for). dmesg shows both.
# shellcheck source=tests/vm/72-fault-sense.sh
source "$(dirname "$0")/72-fault-sense.sh"

T0=$SECONDS
REC=65536
fault_start --fault-seed 74

# sdev_state SG: the SCSI device's state in sysfs (running, offline, blocked...).
sdev_state() { cat "/sys/class/scsi_generic/${1##*/}/device/state"; }
# hung_tag RULE: the tag of the command rule RULE holds, from vtld's log.
hung_tag() {
    local line
    line=$(grep -E "tag=0x[0-9a-f]+ .* fault #$1 hang until aborted" "$TEST_OUT/vtld.log" | tail -n 1) || return 1
    [[ $line =~ tag=(0x[0-9a-f]+) ]] && echo "${BASH_REMATCH[1]}"
}
# log_since RULE DEVICE: vtld's log lines about DEVICE from the one where rule RULE held a command.
log_since() {
    awk -v r="fault #$1 hang until aborted" -v d="[flt/$2]" 'index($0, r) { on = 1 } on && index($0, d)' "$TEST_OUT/vtld.log"
}
# tmr_ended RULE DEVICE TMR TAG: after rule RULE held DEVICE's command TAG, vtld logged TMR ("ABORT
# TASK", "LOGICAL UNIT RESET") naming TAG, and that command's next completion is TASK ABORTED.
tmr_ended() {
    log_since "$1" "$2" | awk -v tmr="$3 for tag(s) [" -v tag="$4" '
        !named && index($0, tmr) {
            list = substr($0, index($0, tmr) + length(tmr)); sub(/\].*/, "", list)
            n = split(list, tags, ", "); for (i = 1; i <= n; i++) if (tags[i] == tag) named = 1
            next
        }
        named && index($0, "tag=" tag " -> ") { ok = index($0, "-> TASK ABORTED") > 0; exit }
        END { exit !ok }'
}

step "changer: TEST UNIT READY hangs (rule count 1); sg_raw -t 4 gives up"
fault_add '{"device":"flt/changer","command":"TEST UNIT READY","action":"hang","count":1}'
rule=$FAULT_ID
# The midlayer's error-recovery messages (SCSI_LOG_ERROR_RECOVERY at level 3, printed when the
# error field of logging_level is above 3) show what it decided.
log_level=$(</proc/sys/dev/scsi/logging_level)
echo 4 >/proc/sys/dev/scsi/logging_level
dmesg -c >/dev/null
aborts_before=0
t=${EPOCHREALTIME/./}
scsi "$CSG" 4 00 00 00 00 00 00
ms=$(ms_since "$t")
echo "sg_raw -t 4 TEST UNIT READY: exit $SCSI_RC after $ms ms"
grep -E 'transport error|Host_status' <<<"$SCSI_OUT" || true
((SCSI_RC != 0)) || { echo "$SCSI_OUT"; fail "the hung TEST UNIT READY ended with success"; }
[[ $SCSI_OUT == *DID_TIME_OUT* ]] || { echo "$SCSI_OUT"; fail "the host did not time the command out (no DID_TIME_OUT)"; }
((ms >= 3500 && ms < 20000)) || fail "sg_raw -t 4 returned after $ms ms"
tag=$(hung_tag "$rule") || fail "vtld did not log the hang of rule #$rule"
wait_for 10 "vtld ends the held command $tag on ABORT TASK" tmr_ended "$rule" changer "ABORT TASK" "$tag"
log_since "$rule" changer
eh_finished() { dmesg | grep -q 'finish aborted command'; }
wait_for 5 "the midlayer finishes the aborted command" eh_finished
echo "$log_level" >/proc/sys/dev/scsi/logging_level
kmsg=$(dmesg)
grep -E 'abort|ABORT_TASK|reset' <<<"$kmsg"
for want in 'abort scheduled' 'aborting command' 'ABORT_TASK: Sending TMR_FUNCTION_COMPLETE' 'finish aborted command'; do
    grep -q "$want" <<<"$kmsg" || fail "dmesg does not show '$want'"
done
! grep -qiE 'reset|error handler' <<<"$kmsg" || fail "the midlayer went on to its error handler after a successful abort"
aborts=$(dmesg | grep -c 'ABORT_TASK: Sending TMR_FUNCTION_COMPLETE' || true)
((aborts == aborts_before + 1)) || fail "LIO completed $((aborts - aborts_before)) ABORT TASKs, expected 1"
expect_fired "$rule" 1
held=$(fault_stat held)
((held == 0)) || fail "the fault plan still holds $held command(s) after the abort"

step "the changer stays in service"
state=$(sdev_state "$CSG")
echo "changer state: $state"
[[ $state == running ]] || fail "the changer's SCSI device is '$state', expected running"
unit_ready "$CSG"
mtx_status "$CSG"
EXP=()
for k in "${!INV[@]}"; do EXP[$k]=-; done
EXP[s1]=FLT001L8 EXP[s2]=FLT002L8 EXP[s3]=FLT003L8 EXP[s4]=FLT004L8
expect_model "mtx status after the abort"

step "tape: mtx load 1 0; two records; sysfs timeout 5 s; READ(6) hangs (rule count 1)"
load_drive 1 0 "$DSG"
write_records 2 "$REC"
timeout_file=/sys/class/scsi_generic/${DSG##*/}/device/timeout
old_timeout=$(<"$timeout_file")
echo 5 >"$timeout_file"
echo "drive0 timeout: $old_timeout s -> $(<"$timeout_file") s"
fault_add '{"device":"flt/drive0","command":"READ(6)","action":"hang","count":1}'
rule=$FAULT_ID
t=${EPOCHREALTIME/./}
rc=0
out=$(dd if="$NST" of="$WORK/out" bs="$REC" count=1 2>&1) || rc=$?
ms=$(ms_since "$t")
echo "dd (READ through st): exit $rc after $ms ms: ${out%%$'\n'*}"
((rc != 0)) || fail "dd read through the hung READ(6)"
[[ $out == *"Input/output error"* ]] || fail "dd failed without EIO: $out"
((ms >= 4500 && ms < 25000)) || fail "the READ timed out after $ms ms, the device timeout is 5 s"
tag=$(hung_tag "$rule") || fail "vtld did not log the hang of rule #$rule"
wait_for 10 "vtld ends the held READ $tag on ABORT TASK" tmr_ended "$rule" drive0 "ABORT TASK" "$tag"
log_since "$rule" drive0
aborts=$(dmesg | grep -c 'ABORT_TASK: Sending TMR_FUNCTION_COMPLETE' || true)
((aborts == aborts_before + 2)) || fail "LIO completed $((aborts - aborts_before)) ABORT TASKs, expected 2"
expect_fired "$rule" 1
echo "$old_timeout" >"$timeout_file"
state=$(sdev_state "$DSG")
echo "drive0 state: $state"
[[ $state == running ]] || fail "drive0's SCSI device is '$state', expected running"
step "the aborted READ moved nothing: the next read returns record 0"
rm -f "$WORK/out"
out=$(dd if="$NST" of="$WORK/out" bs="$REC" count=1 2>&1) || fail "dd after the abort: $out"
cmp "$WORK/rec.0" "$WORK/out" || fail "the read after the aborted READ is not record 0"
echo "record 0 read back identical after the abort"

step "LUN RESET (sg_reset -d) while a TEST UNIT READY hangs on drive0"
fault_add '{"device":"flt/drive0","command":"TEST UNIT READY","action":"hang","count":1}'
rule=$FAULT_ID
(
    t=${EPOCHREALTIME/./}
    rc=0
    sg_raw -v -t 60 "$DSG" 00 00 00 00 00 00 >"$TEST_OUT/hung-tur.txt" 2>&1 || rc=$?
    echo "exit $rc after $(ms_since "$t") ms" >>"$TEST_OUT/hung-tur.txt"
) &
hung=$!
wait_for 15 "vtld holds the TEST UNIT READY" hung_tag "$rule"
tag=$(hung_tag "$rule")
sleep 0.5
kill -0 "$hung" 2>/dev/null || fail "the hung TEST UNIT READY was answered before the reset: $(cat "$TEST_OUT/hung-tur.txt")"
t=${EPOCHREALTIME/./}
expect "sg_reset -d" sg_reset -d "$DSG" >/dev/null
echo "sg_reset -d: done after $(ms_since "$t") ms"
hung_done() { ! kill -0 "$hung" 2>/dev/null; }
wait_for 15 "the hung TEST UNIT READY is answered after the reset" hung_done
wait "$hung" || true
# tcm_loop answers a command that its own host's LUN RESET aborted with GOOD (see 70-abort): the
# time it took says that the reset ended it, vtld's log that it was aborted.
echo "hung TEST UNIT READY: $(grep -E 'SCSI Status|Host_status|Sense key|^exit' "$TEST_OUT/hung-tur.txt" | tr '\n' ' ')"
[[ $(tail -n 1 "$TEST_OUT/hung-tur.txt") =~ after\ ([0-9]+)\ ms ]] || fail "test bug: no time in hung-tur.txt"
((BASH_REMATCH[1] < 30000)) || fail "the held command was not ended by the reset (it waited for its own timeout)"
wait_for 10 "vtld ends the held command $tag on LUN RESET" tmr_ended "$rule" drive0 "LOGICAL UNIT RESET" "$tag"
log_since "$rule" drive0
held=$(fault_stat held)
((held == 0)) || fail "the fault plan still holds $held command(s) after the LUN RESET"
expect_fired "$rule" 1
dmesg | grep -iE 'reset|LUN_RESET' | tail -n 3 || true

step "UNIT ATTENTION 29/xx after the reset, and drive0 stays in service"
unit_ready "$DSG"
[[ $UNIT_READY_NOTES == *"Bus device reset function occurred"* || $UNIT_READY_NOTES == *"Power on, reset, or bus device reset occurred"* ]] ||
    fail "no UNIT ATTENTION 29/xx after the LUN RESET (saw:${UNIT_READY_NOTES:- nothing})"
state=$(sdev_state "$DSG")
echo "drive0 state: $state"
[[ $state == running ]] || fail "drive0's SCSI device is '$state', expected running"
out=$(mt -f "$NST" rewind 2>&1) || fail "mt rewind after the reset: $out"
rm -f "$WORK/out"
out=$(dd if="$NST" of="$WORK/out" bs="$REC" count=2 2>&1) || fail "dd after the reset: $out"
cat "$WORK/rec.0" "$WORK/rec.1" | cmp - "$WORK/out" || fail "the two records read after the reset differ"
echo "both records read back identical after the reset"
mtx_status "$CSG"
exp_move s1 d0
expect_model "mtx status at the end"

step "mt offline; mtx unload 1 0"
out=$(mt -f "$NST" offline 2>&1) || fail "mt offline: $out"
mtx_do "$CSG" unload 1 0
ctl fault list
fault_stop
echo "74-fault-hang passed in $((SECONDS - T0)) s"
