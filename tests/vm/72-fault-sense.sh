#!/usr/bin/env bash
# Injected faults reach the host intact through the kernel (tcm_loop), driven by vtld's fault plan
# (docs/faults.md) and vtlctl. A rule loaded at start-up (configs/faults-sense.toml) fails
# `mtx load` with HARDWARE ERROR 04/15/01 and INFORMATION 0x1234: mtx prints exactly that sense
# and the inventory stays as it was. sg_raw shows a NOT READY 02/04/03 on MOVE MEDIUM and a MEDIUM
# ERROR 03/11/00 on READ(6) byte for byte (key, ASC/ASCQ, VALID and INFORMATION); the tape stays
# where it was. `mt rewind` with 04/44/00 fails with EIO and st logs the sense. BUSY and TASK SET
# FULL on TEST UNIT READY are retried by the midlayer: sg_turs succeeds, the rule fired N times.
# A media error on blocks 3..5 of a file of 8 records fails exactly those reads in dd (EIO); the
# other records read back byte-identical. Library: configs/faults.toml.
# 74-fault-hang and 76-fault-recovery source this file for its helpers.
# shellcheck source=tests/vm/lib.bash
source "$(dirname "${BASH_SOURCE[0]}")/lib.bash"

FAULT_CONFIG=$VTL_REPO/tests/vm/configs/faults.toml
FAULT_LIB=flt
CTL_SOCKET=/tmp/vtl-faults.sock
WORK=/tmp/fault-work

# ---- helpers shared by the fault tests

# vtlctl next to the vtld under test, else the release build's, else the newest one built.
find_vtlctl() {
    VTLCTL=$(dirname "$VTLD")/vtlctl
    [[ -x $VTLCTL ]] || VTLCTL=$VTL_REPO/build/release/handler/vtlctl
    [[ -x $VTLCTL ]] || VTLCTL=$(ls -t "$VTL_REPO"/build/*/handler/vtlctl 2>/dev/null | head -n 1)
    [[ -x $VTLCTL ]] || fail "no vtlctl next to $VTLD nor in build/*/handler (cmake --build --preset dev --target vtlctl)"
    command -v jq >/dev/null || fail "jq is not installed (scripts/setup installs it)"
    echo "vtlctl: $VTLCTL"
}
ctl() { "$VTLCTL" --socket "$CTL_SOCKET" "$@"; }

# fault_start [VTLD ARGS...]: a library fresh from configs/faults.toml, vtld with its control
# socket, scripts/lio up; sets CSG (changer sg), DSG and NST (drive0's sg and nst), DSG1.
fault_start() {
    require_vtld_tcmu
    find_vtlctl
    step "modules"
    load_lio_modules
    library_layout "$FAULT_CONFIG"
    rm -rf "/tmp/vtl-state/$FAULT_LIB" "$WORK"
    mkdir -p "$WORK"
    step "start $VTLD --config ${FAULT_CONFIG#"$VTL_REPO"/} --control-socket $CTL_SOCKET $*"
    start_vtld --config "$FAULT_CONFIG" --control-socket "$CTL_SOCKET" "$@"
    trap '"$LIO" down --all -q 2>/dev/null || true; kill -TERM "$VTLD_PID" 2>/dev/null || true' EXIT
    step "scripts/lio up --config (tcm_loop)"
    expect "lio up" "$LIO" up --vtld "$VTLD" --config "$FAULT_CONFIG" --handler-wait 60 >/dev/null
    lsscsi -g | tee "$TEST_OUT/lsscsi.txt"
    CSG=$(expect "changer sg node" "$LIO" dev "$FAULT_LIB/changer" sg)
    DSG=$(expect "drive0 sg node" "$LIO" dev "$FAULT_LIB/drive0" sg)
    NST=$(expect "drive0 nst node" "$LIO" dev "$FAULT_LIB/drive0" nst)
    DSG1=$(expect "drive1 sg node" "$LIO" dev "$FAULT_LIB/drive1" sg)
    echo "changer $CSG; drive0 $DSG $NST; drive1 $DSG1"
    unit_ready "$CSG"
}

fault_stop() {
    step "scripts/lio down, SIGTERM vtld"
    expect "lio down" "$LIO" down
    trap - EXIT
    stop_vtld
}

# fault_add JSON: adds a rule through vtlctl; FAULT_ID is its id.
fault_add() {
    local out
    out=$(ctl --json fault add --json "$1" 2>&1) || fail "vtlctl fault add $1: $out"
    FAULT_ID=$(jq -er .id <<<"$out") || fail "vtlctl fault add: no id in '$out'"
    echo "fault rule #$FAULT_ID: $1"
}
# fault_counts ID: FIRED, SEEN and RETIRED of rule ID from `vtlctl --json fault list`.
fault_counts() {
    local out
    out=$(ctl --json fault list) || fail "vtlctl fault list failed"
    read -r FIRED SEEN RETIRED < <(jq -r --argjson id "$1" '.[] | select(.id == $id) | "\(.fired) \(.seen) \(.retired)"' <<<"$out")
    [[ -n ${FIRED:-} ]] || fail "vtlctl fault list has no rule $1: $out"
}
# expect_fired ID N: rule ID fired exactly N times.
expect_fired() {
    fault_counts "$1"
    echo "fault rule #$1: fired $FIRED, seen $SEEN, retired $RETIRED"
    ((FIRED == $2)) || fail "fault rule #$1 fired $FIRED times, expected $2"
}
# fault_stat KEY: a number from `vtlctl --json fault stats` (fired_total, held, windows_open...).
fault_stat() { ctl --json fault stats | jq -er ".$1"; }

vtld_log() { grep -E "$1" "$TEST_OUT/vtld.log"; }

# expect_fixed_sense WHAT KEY ASC ASCQ INFORMATION: SENSE is fixed-format current sense with the
# VALID bit, that key, ASC/ASCQ and INFORMATION (a number), and no filemark/EOM/ILI bits.
expect_fixed_sense() {
    local what=$1 key=$2 asc=$3 ascq=$4 info=$5 got
    ((${#SENSE[@]} >= 18)) || fail "$what: ${#SENSE[@]} sense bytes [${SENSE[*]}]"
    got=$((16#${SENSE[3]} << 24 | 16#${SENSE[4]} << 16 | 16#${SENSE[5]} << 8 | 16#${SENSE[6]}))
    echo "$what: sense [${SENSE[*]}]: response 0x${SENSE[0]}, byte 2 0x${SENSE[2]}, INFORMATION $got, ASC/ASCQ ${SENSE[12]}/${SENSE[13]}"
    [[ ${SENSE[0]} == f0 ]] || fail "$what: response code 0x${SENSE[0]}, expected f0 (current, fixed, VALID)"
    ((16#${SENSE[2]} == key)) || fail "$what: sense byte 2 is 0x${SENSE[2]}, expected key $key and no FM/EOM/ILI"
    ((16#${SENSE[12]} == asc && 16#${SENSE[13]} == ascq)) ||
        fail "$what: ASC/ASCQ ${SENSE[12]}/${SENSE[13]}, expected $(printf '%02X/%02X' "$asc" "$ascq")"
    ((got == info)) || fail "$what: INFORMATION $got, expected $info"
}

# load_drive SLOT DRIVE DSG: mtx load, then TEST UNIT READY until GOOD (the drive's UNIT
# ATTENTION and 02/04/01 while loading are tolerated).
load_drive() {
    mtx_do "$CSG" load "$1" "$2"
    unit_ready "$3" 30
}

# write_records N SIZE: N random records of SIZE bytes as one tape file on $NST from BOP, each
# kept as $WORK/rec.K; rewinds afterwards.
write_records() {
    local n=$1 size=$2 k out
    head -c $((n * size)) /dev/urandom >"$WORK/all"
    for ((k = 0; k < n; k++)); do
        dd if="$WORK/all" of="$WORK/rec.$k" bs="$size" skip="$k" count=1 status=none
    done
    out=$(mt -f "$NST" rewind 2>&1) || fail "mt rewind: $out"
    out=$(mt -f "$NST" setblk 0 2>&1) || fail "mt setblk 0: $out"
    out=$(dd if="$WORK/all" of="$NST" bs="$size" count="$n" 2>&1) || fail "writing $n records: $out"
    echo "wrote $n records of $size bytes: ${out##*$'\n'}"
    out=$(mt -f "$NST" rewind 2>&1) || fail "mt rewind: $out"
}

# ---- the test (when run, not when sourced)
if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
    T0=$SECONDS
    PLAN=$VTL_REPO/tests/vm/configs/faults-sense.toml
    fault_start --faults "$PLAN" --fault-seed 72
    REC=65536

    step "vtlctl devices: each device's LIO backstore and uio device, as the kernel lists them"
    devs=$(ctl --json devices "$FAULT_LIB")
    for d in changer drive0 drive1; do
        state=$(jq -r --arg d "$FAULT_LIB/$d" '.[] | select(.path == $d) | .tcmu' <<<"$devs")
        uio=$(grep -l "/$FAULT_LIB\.$d/vtl/$FAULT_LIB/$d\$" /sys/class/uio/uio*/name | head -n 1 | cut -d/ -f5)
        echo "$d: $state (kernel: $uio)"
        [[ -n $uio && $state == "attached $uio (user_"*"/$FAULT_LIB.$d)" ]] ||
            fail "vtlctl says $d is '$state'; the kernel's uio device for it is '${uio:-none}'"
    done

    step "the start-up plan (${PLAN#"$VTL_REPO"/}) is loaded"
    ctl fault list
    expect_fired 1 0
    mtx_status "$CSG"
    EXP=()
    for k in "${!INV[@]}"; do EXP[$k]=-; done
    EXP[s1]=FLT001L8 EXP[s2]=FLT002L8 EXP[s3]=FLT003L8 EXP[s4]=FLT004L8
    expect_model "the configured inventory"

    step "mtx load 1 0: MOVE MEDIUM fails with 04/15/01, INFORMATION 0x1234 (rule #1)"
    rc=0
    out=$(mtx -f "$CSG" load 1 0 2>&1) || rc=$?
    echo "mtx load 1 0: exit $rc"
    echo "$out"
    ((rc == 1)) || fail "mtx load 1 0 exited $rc, expected 1"
    for want in "MOVE MEDIUM from Element Address $(slot_addr 1) to $(drive_addr 0) Failed" \
        "mtx: Request Sense: Error Code=70 (Current)" \
        "mtx: Request Sense: Sense Key=Hardware Error" \
        "mtx: Request Sense: Valid Residual=yes" \
        "mtx: Request Sense: Residual = 00 00 12 34" \
        "mtx: Request Sense: Additional Sense Code = 15" \
        "mtx: Request Sense: Additional Sense Qualifier = 01"; do
        grep -qxF "$want" <<<"$out" || fail "mtx did not print '$want'"
    done
    expect_fired 1 1
    [[ $RETIRED == true ]] || fail "rule #1 (count 1) is not retired after firing once"
    vtld_log 'MOVE MEDIUM fault #1 check_condition 4/15/01' || fail "vtld did not log the fault"
    mtx_status "$CSG"
    expect_model "after the failed mtx load (nothing moved)"

    step "sg_raw MOVE MEDIUM slot 2 -> drive 1: NOT READY 02/04/03, INFORMATION 0x00ABCDEF"
    fault_add '{"device":"flt/changer","command":"MOVE MEDIUM","action":"check_condition","sense":"2/04/03","information":11259375,"count":1}'
    rule=$FAULT_ID
    read -r -a cdb <<<"$(move_cdb "$(slot_addr 2)" "$(drive_addr 1)")"
    scsi "$CSG" 30 "${cdb[@]}"
    echo "$SCSI_OUT"
    ((SCSI_RC == 2)) || fail "sg_raw exited $SCSI_RC, expected 2 (sg3_utils: NOT READY)"
    sg_raw_sense "$SCSI_OUT"
    expect_fixed_sense "MOVE MEDIUM" 2 0x04 0x03 $((0xABCDEF))
    grep -qi 'manual intervention required' <<<"$SCSI_OUT" || fail "sg_raw does not decode 04/03 as 'Manual intervention required'"
    expect_fired "$rule" 1
    mtx_status "$CSG"
    expect_model "after the refused MOVE MEDIUM (nothing moved)"

    step "mtx load 1 0 (the start-up rule has retired): the cartridge goes in"
    load_drive 1 0 "$DSG"
    exp_move s1 d0
    mtx_status "$CSG"
    expect_model "after mtx load 1 0"

    step "mt rewind with 04/44/00 injected on REWIND: EIO, and st logs the sense"
    fault_add '{"device":"flt/drive0","command":"REWIND","action":"check_condition","sense":"4/44/00","count":1}'
    rule=$FAULT_ID
    dmesg -c >/dev/null
    rc=0
    out=$(mt -f "$NST" rewind 2>&1) || rc=$?
    echo "mt rewind: exit $rc: $out"
    ((rc != 0)) || fail "mt rewind succeeded despite the injected HARDWARE ERROR"
    [[ $out == *"Input/output error"* ]] || fail "mt rewind failed with '$out', expected EIO (Input/output error)"
    expect_fired "$rule" 1
    kmsg=$(dmesg)
    echo "$kmsg" | grep -E 'st[0-9]' || true
    grep -q 'Sense Key : Hardware Error \[current\]' <<<"$kmsg" || fail "st did not log the HARDWARE ERROR sense"
    grep -q 'Add. Sense: Internal target failure' <<<"$kmsg" || fail "st did not log ASC/ASCQ 44/00 (internal target failure)"
    out=$(mt -f "$NST" rewind 2>&1) || fail "mt rewind after the rule retired: $out"
    echo "mt rewind (rule retired): ok"

    step "READ(6) through sg_raw: MEDIUM ERROR 03/11/00 with INFORMATION $REC, then the record"
    write_records 2 "$REC"
    fault_add "{\"device\":\"flt/drive0\",\"command\":\"READ(6)\",\"action\":\"check_condition\",\"sense\":\"3/11/00\",\"information\":$REC,\"count\":1}"
    rule=$FAULT_ID
    read6=(08 00 "$(printf %02x $((REC >> 16)))" "$(printf %02x $(((REC >> 8) & 255)))" "$(printf %02x $((REC & 255)))" 00)
    rm -f "$WORK/sgout"
    rc=0
    out=$(sg_raw -v -t 30 -r "$REC" -o "$WORK/sgout" "$DSG" "${read6[@]}" 2>&1) || rc=$?
    echo "$out"
    ((rc == 3)) || fail "sg_raw READ(6) exited $rc, expected 3 (sg3_utils: medium or hardware error)"
    sg_raw_sense "$out"
    expect_fixed_sense "READ(6)" 3 0x11 0x00 "$REC"
    grep -qi 'unrecovered read error' <<<"$out" || fail "sg_raw does not decode 11/00 as 'Unrecovered read error'"
    expect_fired "$rule" 1
    rm -f "$WORK/sgout"
    out=$(sg_raw -t 30 -r "$REC" -o "$WORK/sgout" "$DSG" "${read6[@]}" 2>&1) || fail "READ(6) after the rule retired: $out"
    cmp "$WORK/rec.0" "$WORK/sgout" || fail "READ(6) after the injected error did not return record 0 (the tape moved?)"
    echo "READ(6) again: record 0, $(stat -c %s "$WORK/sgout") bytes, identical"
    out=$(mt -f "$NST" rewind 2>&1) || fail "mt rewind: $out" # sg_raw moved the tape behind st's back

    step "BUSY x4 on TEST UNIT READY: the midlayer retries, sg_turs succeeds"
    fault_add '{"device":"flt/drive0","command":"TEST UNIT READY","action":"busy","count":4}'
    rule=$FAULT_ID
    out=$(sg_turs -v "$DSG" 2>&1) || fail "sg_turs $DSG failed behind 4 BUSY: $out"
    echo "sg_turs: $out"
    expect_fired "$rule" 4
    ((SEEN == 4)) || fail "rule #$rule saw $SEEN commands, expected 4"
    n=$(grep -c "TEST UNIT READY fault #$rule busy" "$TEST_OUT/vtld.log")
    ((n == 4)) || fail "vtld logged $n BUSY faults, expected 4"

    step "TASK SET FULL x2 on TEST UNIT READY: retried too"
    fault_add '{"device":"flt/drive0","command":"TEST UNIT READY","action":"task_set_full","count":2}'
    rule=$FAULT_ID
    out=$(sg_turs -v "$DSG" 2>&1) || fail "sg_turs $DSG failed behind 2 TASK SET FULL: $out"
    expect_fired "$rule" 2
    [[ $(cat "/sys/class/scsi_generic/${DSG##*/}/device/state") == running ]] || fail "drive0 is not running"

    step "media error on blocks 3..5 of 8 records: dd reads exactly those with EIO"
    K=8
    write_records "$K" "$REC"
    fault_add '{"device":"flt/drive0","action":"medium_error","blocks":[3,5]}'
    rule=$FAULT_ID
    failed=""
    for ((k = 0; k < K; k++)); do
        rm -f "$WORK/out"
        rc=0
        out=$(dd if="$NST" of="$WORK/out" bs="$REC" count=1 2>&1) || rc=$?
        if ((rc != 0)); then
            echo "record $k: dd exit $rc: ${out%%$'\n'*}"
            [[ $out == *"Input/output error"* ]] || fail "record $k: dd failed without EIO: $out"
            failed+=" $k"
        else
            cmp "$WORK/rec.$k" "$WORK/out" || fail "record $k read back differs"
            echo "record $k: identical"
        fi
    done
    [[ $failed == " 3 4 5" ]] || fail "dd failed on records [$failed ], expected [ 3 4 5 ]"
    expect_fired "$rule" 3
    n=$(grep -cE "READ\(6\) fault #$rule medium_error 03/11/00 at block [345]$" "$TEST_OUT/vtld.log")
    ((n == 3)) || fail "vtld logged $n media errors at blocks 3..5, expected 3"
    # What st saw: variable mode, nothing transferred, INFORMATION the requested length, and the
    # drive positioned after the damaged block.
    out=$(mt -f "$NST" rewind 2>&1) || fail "mt rewind: $out"
    out=$(mt -f "$NST" fsr 5 2>&1) || fail "mt fsr 5: $out"
    rm -f "$WORK/sgout"
    rc=0
    out=$(sg_raw -v -t 30 -r "$REC" -o "$WORK/sgout" "$DSG" "${read6[@]}" 2>&1) || rc=$?
    ((rc == 3)) || { echo "$out"; fail "sg_raw READ(6) of damaged block 5 exited $rc, expected 3"; }
    sg_raw_sense "$out"
    expect_fixed_sense "READ(6) of damaged block 5" 3 0x11 0x00 "$REC"
    [[ ! -s $WORK/sgout ]] || fail "READ(6) of a damaged block returned $(stat -c %s "$WORK/sgout") bytes"
    expect_fired "$rule" 4
    rm -f "$WORK/sgout"
    out=$(sg_raw -t 30 -r "$REC" -o "$WORK/sgout" "$DSG" "${read6[@]}" 2>&1) || fail "READ(6) after block 5: $out"
    cmp "$WORK/rec.6" "$WORK/sgout" || fail "the READ(6) after damaged block 5 did not return record 6"
    echo "the next READ(6) returns record 6: positioned after the damaged block"
    ctl fault remove "$rule"
    out=$(mt -f "$NST" rewind 2>&1) || fail "mt rewind: $out"
    out=$(dd if="$NST" of="$WORK/out" bs="$REC" count="$K" 2>&1) || fail "reading the file after the rule was removed: $out"
    cmp "$WORK/all" "$WORK/out" || fail "the file read back after the rule was removed differs"
    echo "rule removed: all $K records read back identical"

    step "every fault counted"
    ctl fault list
    ctl fault stats
    total=$(fault_stat fired_total)
    ((total == 1 + 1 + 1 + 1 + 4 + 2 + 4)) || fail "fired_total $total, expected 14"

    step "mt offline; mtx unload 1 0"
    out=$(mt -f "$NST" offline 2>&1) || fail "mt offline: $out"
    mtx_do "$CSG" unload 1 0
    fault_stop
    echo "72-fault-sense passed in $((SECONDS - T0)) s"
fi
