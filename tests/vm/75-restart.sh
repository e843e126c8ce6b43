#!/usr/bin/env bash
# vtld killed with SIGKILL and started again while its LUNs stay exported in LIO (tcm_loop):
# commands sent while it is down wait in the ring (cmd_time_out=0) and are answered after the
# restart; both devices answer again; moves acknowledged before the kill are still in the
# inventory (mtx status); a move under way at the kill ends up in exactly one place, the one its
# answer to the host implies; data written with st before the last filemark reads back
# byte-identical; the library keeps working (an unload after the restart). Library:
# tests/vm/configs/restart.toml.
# shellcheck source=tests/vm/lib.bash
source "$(dirname "$0")/lib.bash"

CONFIG=$VTL_REPO/tests/vm/configs/restart.toml
require_vtld_tcmu
step "modules"
load_lio_modules
library_layout "$CONFIG"
rm -rf "/tmp/vtl-state/$LIB_NAME"
IE1=s$((N_SLOTS + 1))

step "start $VTLD --config ${CONFIG#"$VTL_REPO"/}, scripts/lio up"
start_vtld --config "$CONFIG"
trap '"$LIO" down --all -q 2>/dev/null || true; kill -TERM "$VTLD_PID" 2>/dev/null || true' EXIT
expect "lio up" "$LIO" up --vtld "$VTLD" --config "$CONFIG" --handler-wait 60 >/dev/null
sg=$(expect "changer sg node" "$LIO" dev "$LIB_NAME/changer" sg)
dsg=$(expect "drive0 sg node" "$LIO" dev "$LIB_NAME/drive0" sg)
nst=$(expect "drive0 nst node" "$LIO" dev "$LIB_NAME/drive0" nst)
echo "changer $sg; drive0 $dsg $nst"
unit_ready "$sg"
mtx_status "$sg"
EXP=()
for k in "${!INV[@]}"; do EXP[$k]=-; done
EXP[s1]=RST001L8 EXP[s2]=RST002L8 EXP[s3]=RST003L8 EXP[s4]=RST004L8
expect_model "the configured inventory"
moves_taken() { grep -c "MOVE MEDIUM start" "$TEST_OUT/vtld.log" || true; }

step "moves acknowledged before the kill: mtx load 1 0, mtx transfer 2 5"
mtx_do "$sg" load 1 0
mtx_do "$sg" transfer 2 5
exp_move s1 d0
exp_move s2 s5
mtx_status "$sg"
expect_model "before the kill"

step "data on drive0 through st: two files, each closed by a filemark"
unit_ready "$dsg" 30
expect "mt setblk 0" mt -f "$nst" setblk 0 >/dev/null
head -c $((192 << 10)) /dev/urandom >/tmp/rst-file1
head -c $((128 << 10)) /dev/urandom >/tmp/rst-file2
head -c 4096 /dev/urandom >/tmp/rst-tail
expect "dd file 1 to $nst" dd if=/tmp/rst-file1 of="$nst" bs=64k status=none >/dev/null
expect "dd file 2 to $nst" dd if=/tmp/rst-file2 of="$nst" bs=64k status=none >/dev/null
tell=$(expect "mt tell" mt -f "$nst" tell)
echo "3 + 2 records of 64 KiB, 2 filemarks: $tell"
[[ $tell == "At block 7." ]] || fail "mt tell says '$tell' after 5 records and 2 filemarks, expected block 7"
# One more record after the last filemark: nothing promises it survives a crash; reported below.
rc=0
sg_raw -s 4096 -i /tmp/rst-tail "$dsg" 0a 00 00 10 00 00 >/dev/null 2>&1 || rc=$?
echo "WRITE(6) of 4096 bytes after the last filemark: sg_raw exit $rc"

step "a slow move (slot 3 -> I/E 1, ~12 s of robot time) under way when vtld is killed"
read -r -a cdb <<<"$(move_cdb "$(slot_addr 3)" "$(ie_addr 1)")"
taken=$(moves_taken)
(
    t=${EPOCHREALTIME/./}
    rc=0
    sg_raw -v -t 120 "$sg" "${cdb[@]}" >"$TEST_OUT/move-in-flight.txt" 2>&1 || rc=$?
    echo "exit $rc after $(ms_since "$t") ms" >>"$TEST_OUT/move-in-flight.txt"
) &
inflight=$!
move_taken() { (($(moves_taken) > taken)); }
wait_for 10 "vtld takes the MOVE MEDIUM" move_taken
sleep 1

step "SIGKILL vtld; the LUNs stay exported"
kill -KILL "$VTLD_PID"
wait "$VTLD_PID" 2>/dev/null || true
echo "--- $(date +%T.%N) SIGKILL" >>"$TEST_OUT/vtld.log"
status=$("$LIO" status)
echo "$status" | grep -E "^  $LIB_NAME/" || true
(($(grep -c 'NO HANDLER' <<<"$status") == 2)) || fail "the two backstores are not exported without a handler after the kill"
(
    t=${EPOCHREALTIME/./}
    rc=0
    sg_inq "$dsg" >"$TEST_OUT/inquiry-while-down.txt" 2>&1 || rc=$?
    echo "exit $rc after $(ms_since "$t") ms" >>"$TEST_OUT/inquiry-while-down.txt"
) &
inquiry=$!
sleep 2
kill -0 "$inquiry" 2>/dev/null || { cat "$TEST_OUT/inquiry-while-down.txt"; fail "an INQUIRY sent while vtld is down was answered by someone"; }
kill -0 "$inflight" 2>/dev/null && echo "the move and an INQUIRY sent since wait in the rings"

step "restart vtld"
restart_vtld --config "$CONFIG"
handlers_back() { ! "$LIO" status | grep -q 'NO HANDLER'; }
wait_for 30 "vtld holds both backstores again" handlers_back
inquiry_answered() { ! kill -0 "$inquiry" 2>/dev/null; }
wait_for 30 "the INQUIRY sent while vtld was down is answered" inquiry_answered
wait "$inquiry" || true
grep -E 'Vendor|Product identification|^exit' "$TEST_OUT/inquiry-while-down.txt"
grep -q '^exit 0 ' "$TEST_OUT/inquiry-while-down.txt" || fail "the INQUIRY sent while vtld was down failed"
grep -q "Product identification: ULT3580-TD8" "$TEST_OUT/inquiry-while-down.txt" || fail "wrong INQUIRY data after the restart"
grep -E 'replayed|waiting in the ring|resetting the ring' "$TEST_OUT/vtld.log" || true
unit_ready "$sg"
unit_ready "$dsg" 30
expect "sg_inq changer" sg_inq "$sg" | grep -E 'Vendor|Product identification'

step "the move under way at the kill"
inflight_answered() { ! kill -0 "$inflight" 2>/dev/null; }
wait_for 60 "the move under way at the kill is answered" inflight_answered
wait "$inflight" || true
answer=$(grep -E 'SCSI Status|Sense key|Additional sense|Host_status|^exit' "$TEST_OUT/move-in-flight.txt" | tr '\n' ' ')
echo "answer: $answer"
mtx_status "$sg"
echo "$MTX_OUT"
if grep -q '^exit 0 ' "$TEST_OUT/move-in-flight.txt"; then
    echo "the host was told GOOD: RST003L8 must be in I/E 1"
    exp_move s3 "$IE1"
else
    echo "the host was told it failed: RST003L8 must still be in slot 3"
fi
expect_model "after the restart (acknowledged moves kept; the interrupted one as its answer says)"

step "data written before the last filemark reads back"
expect "mt rewind" mt -f "$nst" rewind >/dev/null
expect "dd file 1 from $nst" dd if="$nst" of=/tmp/rst-read1 bs=64k status=none >/dev/null
expect "dd file 2 from $nst" dd if="$nst" of=/tmp/rst-read2 bs=64k status=none >/dev/null
cmp /tmp/rst-file1 /tmp/rst-read1 || fail "file 1 differs after the restart"
cmp /tmp/rst-file2 /tmp/rst-read2 || fail "file 2 differs after the restart"
echo "file 1 (192 KiB) and file 2 (128 KiB) read back byte-identical"
# dd ends with an error at end of data (BLANK CHECK); what it read before counts.
rc=0
dd if="$nst" of=/tmp/rst-read3 bs=64k status=none 2>/dev/null || rc=$?
if cmp -s /tmp/rst-tail /tmp/rst-read3; then
    echo "the record written after the last filemark survived too (dd exit $rc at end of data)"
else
    echo "the record written after the last filemark did not survive (dd exit $rc, $(stat -c %s /tmp/rst-read3 2>/dev/null || echo 0) bytes): allowed"
fi

step "the library keeps working: mtx unload 1 0"
mtx_do "$sg" unload 1 0
exp_move d0 s1
mtx_status "$sg"
expect_model "after the unload"

step "scripts/lio down, SIGTERM vtld"
expect "lio down" "$LIO" down
trap - EXIT
stop_vtld
rm -f /tmp/rst-file* /tmp/rst-read* /tmp/rst-tail
