#!/usr/bin/env bash
# Robot recovery (fault action `robot_recovery`) on a scaled clock, through the kernel (tcm_loop).
# With `vtlctl clock scale 60`, a 13-minute recovery of the motion out of slot 1 makes `mtx load 1 0`
# take about 13 s of wall time (8-40 s allowed under TCG); it then succeeds, READ ELEMENT STATUS
# shows FLT001L8 in drive 0 with slot 1 as its source, and the drive becomes ready. A 2-minute
# recovery that ends in HARDWARE ERROR 04/15/01 (mechanical positioning error) makes
# `mtx load 2 1` fail after about 2 s with that sense, and leaves FLT002L8 in slot 2, the drive and
# the robot empty. Library: configs/faults.toml.
# shellcheck source=tests/vm/72-fault-sense.sh
source "$(dirname "$0")/72-fault-sense.sh"

T0=$SECONDS
fault_start --fault-seed 76
mtx_status "$CSG"
EXP=()
for k in "${!INV[@]}"; do EXP[$k]=-; done
EXP[s1]=FLT001L8 EXP[s2]=FLT002L8 EXP[s3]=FLT003L8 EXP[s4]=FLT004L8
expect_model "the configured inventory"

step "vtlctl clock scale 60"
ctl clock scale 60
clock=$(ctl --json clock)
echo "$clock"
jq -e '.mode == "scaled" and .scale == 60' <<<"$clock" >/dev/null || fail "the clock is not scaled x60: $clock"

step "a 13-minute robot recovery on the move out of slot 1; mtx load 1 0"
fault_add '{"device":"flt","slot":1,"action":"robot_recovery","recovery":"13min","count":1}'
rule=$FAULT_ID
t=${EPOCHREALTIME/./}
mtx_do "$CSG" load 1 0
ms=$(ms_since "$t")
echo "mtx load 1 0 took $ms ms of wall time for 13 min of library time (x60: 13 s)"
((ms >= 8000 && ms <= 40000)) || fail "mtx load 1 0 took $ms ms, expected about 13 s (8-40 s)"
expect_fired "$rule" 1
vtld_log "fault #$rule robot_recovery recovery 13min then carries on" || fail "vtld did not log the recovery"
exp_move s1 d0
mtx_status "$CSG"
expect_model "after the recovered load"
element_at "$CSG" "$(drive_addr 0)"
echo "READ ELEMENT STATUS drive 0: full=$ELEM_FULL tag=$ELEM_TAG source=$(printf 0x%04X "${ELEM_SRC:-0}")"
[[ $ELEM_FULL == 1 && $ELEM_TAG == FLT001L8 && ${ELEM_SRC:-} == "$(slot_addr 1)" ]] ||
    fail "drive 0: full=$ELEM_FULL tag=$ELEM_TAG source=${ELEM_SRC:-none}, expected FLT001L8 from slot 1"
element_at "$CSG" "$A_MT"
[[ $ELEM_FULL == 0 ]] || fail "the robot still holds '$ELEM_TAG'"
unit_ready "$DSG" 30

step "a 2-minute recovery that fails with 04/15/01 on the move out of slot 2; mtx load 2 1"
fault_add '{"device":"flt","slot":2,"action":"robot_recovery","recovery":"2min","sense":"4/15/01","count":1}'
rule=$FAULT_ID
t=${EPOCHREALTIME/./}
rc=0
out=$(mtx -f "$CSG" load 2 1 2>&1) || rc=$?
ms=$(ms_since "$t")
echo "mtx load 2 1: exit $rc after $ms ms"
echo "$out"
((rc == 1)) || fail "mtx load 2 1 exited $rc, expected 1"
((ms >= 1000 && ms <= 30000)) || fail "mtx load 2 1 failed after $ms ms, expected about 2 s (1-30 s)"
for want in "MOVE MEDIUM from Element Address $(slot_addr 2) to $(drive_addr 1) Failed" \
    "mtx: Request Sense: Sense Key=Hardware Error" \
    "mtx: Request Sense: Additional Sense Code = 15" \
    "mtx: Request Sense: Additional Sense Qualifier = 01"; do
    grep -qxF "$want" <<<"$out" || fail "mtx did not print '$want'"
done
expect_fired "$rule" 1
vtld_log "fault #$rule robot_recovery recovery 2min then 4/15/01" || fail "vtld did not log the failed recovery"
mtx_status "$CSG"
expect_model "after the failed load (FLT002L8 stays in slot 2)"
element_at "$CSG" "$(slot_addr 2)"
echo "READ ELEMENT STATUS slot 2: full=$ELEM_FULL tag=$ELEM_TAG"
[[ $ELEM_FULL == 1 && $ELEM_TAG == FLT002L8 ]] || fail "slot 2: full=$ELEM_FULL tag=$ELEM_TAG, expected FLT002L8"
element_at "$CSG" "$(drive_addr 1)"
[[ $ELEM_FULL == 0 ]] || fail "drive 1 holds '$ELEM_TAG' after the failed load"
element_at "$CSG" "$A_MT"
[[ $ELEM_FULL == 0 ]] || fail "the robot holds '$ELEM_TAG' after the failed load"
check_not_ready "$DSG1"

step "vtlctl clock real; the robot works normally: mtx load 2 1, unload both"
ctl clock real
[[ $(ctl --json clock | jq -r .mode) == real ]] || fail "the clock is not back to real time"
mtx_do "$CSG" load 2 1
exp_move s2 d1
mtx_status "$CSG"
expect_model "after mtx load 2 1"
mtx_do "$CSG" unload 2 1
mtx_do "$CSG" unload 1 0
exp_move d1 s2
exp_move d0 s1
mtx_status "$CSG"
expect_model "back to the configured inventory"
ctl fault list
fault_stop
echo "76-fault-recovery passed in $((SECONDS - T0)) s"
