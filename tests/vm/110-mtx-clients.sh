#!/usr/bin/env bash
# Unmodified Debian mtx clients through the kernel over tcm_loop, beyond what 60-changer-mtx-loop
# covers (status, nobarcode, altres, load, unload, transfer, exchange, inventory): `tapeinfo` and
# `loaderinfo` on the changer and on a drive, their key lines checked against the config and
# vtld's identities; mtx first/next/previous/last (with "No More Media" past the last slot) and
# eepos transfers to and from an I/E element, each followed by a full comparison of every
# element. Library: tests/vm/configs/clients-sg.toml.
# shellcheck source=tests/vm/lib.bash
source "$(dirname "$0")/lib.bash"

CONFIG=$VTL_REPO/tests/vm/configs/clients-sg.toml
T0=$SECONDS

# expect_line WHAT TEXT LINE: TEXT has exactly the line LINE.
expect_line() {
    local what=$1 text=$2 want=$3 line
    while IFS= read -r line; do
        [[ $line == "$want" ]] && { echo "$what: '$want'"; return 0; }
    done <<<"$text"
    echo "$text"
    fail "$what: no line '$want'"
}
# pad WIDTH TEXT: TEXT padded with blanks to WIDTH (INQUIRY's fixed-width fields).
pad() { printf "%-$1s" "$2"; }
# client_says TOOL SG FILE [DEVICE TYPE] -- LINE...: `TOOL -f SG` (tapeinfo or loaderinfo, its
# output kept in $TEST_OUT/FILE) prints every LINE; with DEVICE, also "Product Type: TYPE" and
# the vendor and product vtld gives DEVICE.
client_says() {
    local tool=$1 sg=$2 file=$3 out line lines=()
    shift 3
    if [[ $1 != -- ]]; then
        lines=("Product Type: $2" "Vendor ID: '$(pad 8 "$(ident "$1" vendor)")'"
            "Product ID: '$(pad 16 "$(ident "$1" product)")'")
        shift 2
    fi
    shift # --
    out=$(expect "$tool $sg" "$tool" -f "$sg")
    echo "$out" >"$TEST_OUT/$file"
    for line in "${lines[@]}" "$@"; do
        expect_line "$tool" "$out" "$line"
    done
}

require_vtld_tcmu
step "modules"
load_lio_modules
library_layout "$CONFIG"
rm -rf "/tmp/vtl-state/$LIB_NAME"
# Identities from vtld itself: vendor, product and serial of each device.
JSON=$(expect "vtld --check --json" "$VTLD" --check --json --config "$CONFIG")
ident() { jq -r --arg d "$1" --arg f "$2" '.libraries[0].devices[] | select(.name == $d) | .[$f]' <<<"$JSON"; }
CAPACITY_MIB=8 # clients-sg.toml: capacity = "8MiB"

step "start $VTLD --config ${CONFIG#"$VTL_REPO"/}"
start_vtld --config "$CONFIG"
trap '"$LIO" down --all -q 2>/dev/null || true; kill -TERM "$VTLD_PID" 2>/dev/null || true' EXIT
expect "lio up" "$LIO" up --vtld "$VTLD" --config "$CONFIG" --handler-wait 60
lsscsi -g | tee "$TEST_OUT/lsscsi.txt"
CSG=$(expect "changer sg" "$LIO" dev "$LIB_NAME/changer" sg)
DSG=$(expect "drive0 sg" "$LIO" dev "$LIB_NAME/drive0" sg)
unit_ready "$CSG"

step "tapeinfo and loaderinfo on the changer ($CSG)"
client_says tapeinfo "$CSG" tapeinfo-changer.txt changer "Medium Changer" -- \
    "SerialNumber: '$(ident changer serial)'" "Attached Changer API: No" "Ready: yes"
# Device capabilities page 1Fh: every element type stores, every move and exchange is allowed.
caps=("Storage: Data Transfer, Import/Export, Storage")
for t in Storage Import/Export "Data Transfer"; do
    caps+=("Transfer $t: ->Data Transfer, ->Import/Export, ->Storage"
        "Exchange $t: <>Data Transfer, <>Import/Export, <>Storage")
done
client_says loaderinfo "$CSG" loaderinfo-changer.txt changer "Medium Changer" -- "EAAP: Yes" \
    "Number of Medium Transport Elements: $N_MT" "Number of Storage Elements: $N_SLOTS" \
    "Number of Import/Export Elements: $N_IE" "Number of Data Transfer Elements: $N_DRIVES" \
    "Transport Geometry Descriptor Page: Yes" "Invertable: No" "Device Configuration Page: Yes" \
    "${caps[@]}"

step "tapeinfo and loaderinfo on drive0 ($DSG), empty"
for _ in 1 2 3; do sg_turs "$DSG" >/dev/null 2>&1 || true; done # the power-on unit attentions
client_says tapeinfo "$DSG" tapeinfo-drive-empty.txt drive0 "Tape Drive" -- \
    "SerialNumber: '$(ident drive0 serial)'" "Ready: no"
# loaderinfo asks any device for MODE SENSE page 1Dh; a drive's 1Dh is SSC's medium
# configuration page, which loaderinfo decodes as if it were an element address assignment:
# it finds no storage, I/E or data transfer elements.
client_says loaderinfo "$DSG" loaderinfo-drive.txt drive0 "Tape Drive" -- "Number of Storage Elements: 0" \
    "Number of Data Transfer Elements: 0" "Transport Geometry Descriptor Page: No"

step "mtx first 0: slot 1 into drive 0"
mtx_status "$CSG"
exp_from_inv
[[ ${EXP[s1]} == CLI001L8 && ${EXP[s6]} == CLI006L8 && ${EXP[s7]} == - && ${EXP[d0]} == - ]] ||
    fail "not the configured inventory: $INV_LINE"
mtx_do "$CSG" first 0
exp_move s1 d0
mtx_status "$CSG"
expect_model "after mtx first 0"
[[ ${INV_SRC[d0]:-} == 1 ]] || fail "drive 0's source is '${INV_SRC[d0]:-}', expected 1"

step "tapeinfo on drive0 with CLI001L8 loaded"
unit_ready "$DSG" 30
# Density code 0x5e: LTO-8. Tape capacity log page 31h counts MiB; tapeinfo labels the raw
# figures "Kbytes".
client_says tapeinfo "$DSG" tapeinfo-drive-loaded.txt -- "Ready: yes" "BOP: yes" "Block Position: 0" \
    "MinBlock: 1" "MaxBlock: 8388608" "Density Code: 0x5e" "BlockSize: 0" "DataCompEnabled: yes" \
    "ActivePartition: 0" "Partition 0 Size in Kbytes: $CAPACITY_MIB" \
    "Partition 0 Remaining Kbytes: $CAPACITY_MIB"

step "mtx next 0 (1 back to slot 1, 2 in), next 0 (3 in), previous 0 (2 in again)"
mtx_do "$CSG" next 0
exp_move d0 s1
exp_move s2 d0
mtx_status "$CSG"
expect_model "after mtx next 0"
[[ ${INV_SRC[d0]:-} == 2 ]] || fail "drive 0's source is '${INV_SRC[d0]:-}', expected 2"
mtx_do "$CSG" next 0
exp_move d0 s2
exp_move s3 d0
mtx_status "$CSG"
expect_model "after the second mtx next 0"
mtx_do "$CSG" previous 0
exp_move d0 s3
exp_move s2 d0
mtx_status "$CSG"
expect_model "after mtx previous 0"

step "mtx transfer 4 $N_SLOTS; mtx last 0 (slot $N_SLOTS in); next 0 past the last slot: No More Media"
mtx_do "$CSG" transfer 4 "$N_SLOTS"
exp_move s4 "s$N_SLOTS"
mtx_do "$CSG" last 0
exp_move d0 s2
exp_move "s$N_SLOTS" d0
mtx_status "$CSG"
expect_model "after mtx last 0"
mtx_refused "$CSG" next 0
exp_move d0 "s$N_SLOTS" # mtx unloads first, then finds no further full slot
mtx_status "$CSG"
expect_model "after mtx next 0 beyond the last slot"

step "eepos: mtx eepos 1 transfer $N_SLOTS $((N_SLOTS + 1)) (to the I/E element, extend), eepos 2 back (retract)"
mtx_do "$CSG" eepos 1 transfer "$N_SLOTS" $((N_SLOTS + 1))
exp_move "s$N_SLOTS" "s$((N_SLOTS + 1))"
mtx_status "$CSG"
expect_model "after mtx eepos 1 transfer"
element_at "$CSG" "$(ie_addr 1)"
[[ $ELEM_FULL == 1 && $ELEM_TAG == CLI004L8 ]] || fail "I/E 1 through READ ELEMENT STATUS: full=$ELEM_FULL tag='$ELEM_TAG'"
mtx_do "$CSG" eepos 2 transfer $((N_SLOTS + 1)) 4
exp_move "s$((N_SLOTS + 1))" s4
mtx_status "$CSG"
expect_model "after mtx eepos 2 transfer"
mtx_do "$CSG" eepos 3 load 4 1
exp_move s4 d1
mtx_status "$CSG"
expect_model "after mtx eepos 3 load 4 1"
mtx_do "$CSG" eepos 0 unload 4 1
exp_move d1 s4
mtx_status "$CSG"
expect_model "after mtx eepos 0 unload 4 1"
echo "final inventory: $INV_LINE"

step "scripts/lio down, SIGTERM vtld"
expect "lio down" "$LIO" down
trap - EXIT
stop_vtld
echo "110-mtx-clients passed in $((SECONDS - T0)) s"
