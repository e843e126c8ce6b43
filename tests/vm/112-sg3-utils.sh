#!/usr/bin/env bash
# Unmodified sg3_utils through the kernel over tcm_loop, on the changer and both drives:
# scsi_mandat with no failure; every VPD page that page 00h advertises decoded by sg_vpd and
# sg_inq without error (serials and designators checked); sg_modes -a for each page control
# (current, changeable, default, saved) listing the expected pages; sg_logs -a with the
# decoded capacity and volume serial; sg_opcodes with and without command timeout descriptors
# (-R); sg_read_attr of a loaded cartridge's MAM, then WRITE ATTRIBUTE through sg_raw and
# sg_read_attr showing the new values; sg_reset (no reset), -d and -N -d with the UNIT ATTENTION
# 29/03 afterwards and the cartridge still in place. Library: tests/vm/configs/clients-sg.toml.
# shellcheck source=tests/vm/lib.bash
source "$(dirname "$0")/lib.bash"

CONFIG=$VTL_REPO/tests/vm/configs/clients-sg.toml
WORK=/tmp/sg3-work
T0=$SECONDS

# must WHAT CMD...: run CMD (exit 0 required), keep its output in OUT and in $TEST_OUT/WHAT.txt.
must() {
    local what=$1 rc=0
    shift
    OUT=$("$@" 2>&1) || rc=$?
    printf '$ %s\n%s\n' "$*" "$OUT" >>"$TEST_OUT/${what%% *}.txt"
    ((rc == 0)) || { echo "$OUT"; fail "$what: '$*' exited $rc"; }
}
# has WHAT LINE-REGEX: OUT has a line matching.
has() {
    grep -qiE -- "$2" <<<"$OUT" || { echo "$OUT"; fail "$1: no line matching '$2'"; }
    echo "$1: $(grep -m1 -iE -- "$2" <<<"$OUT" | sed 's/^ *//')"
}
# hasnt WHAT REGEX: OUT has no line matching (decoding errors).
hasnt() {
    if grep -qiE -- "$2" <<<"$OUT"; then
        echo "$OUT"
        fail "$1: output has '$(grep -m1 -iE -- "$2" <<<"$OUT")'"
    fi
}
# What sg3_utils prints when a page does not decode or a command fails (not "error": page names
# such as "Read-Write error recovery" contain it).
BAD='unable to decode|not decoded|malformed|truncated|bad |invalid|failed|illegal request|too short'

require_vtld_tcmu
step "modules"
load_lio_modules
library_layout "$CONFIG"
rm -rf "/tmp/vtl-state/$LIB_NAME" "$WORK"
mkdir -p "$WORK"
JSON=$(expect "vtld --check --json" "$VTLD" --check --json --config "$CONFIG")
ident() { jq -r --arg d "$1" --arg f "$2" '.libraries[0].devices[] | select(.name == $d) | .[$f]' <<<"$JSON"; }

step "start $VTLD --config ${CONFIG#"$VTL_REPO"/}"
start_vtld --config "$CONFIG"
trap '"$LIO" down --all -q 2>/dev/null || true; kill -TERM "$VTLD_PID" 2>/dev/null || true' EXIT
expect "lio up" "$LIO" up --vtld "$VTLD" --config "$CONFIG" --handler-wait 60
lsscsi -g | tee "$TEST_OUT/lsscsi.txt"
declare -A SG
for d in changer drive0 drive1; do SG[$d]=$(expect "$d sg" "$LIO" dev "$LIB_NAME/$d" sg); done
unit_ready "${SG[changer]}"
for _ in 1 2 3; do sg_turs "${SG[drive0]}" >/dev/null 2>&1 || true; sg_turs "${SG[drive1]}" >/dev/null 2>&1 || true; done

step "mtx load 1 0: drive0 holds CLI001L8, drive1 stays empty"
mtx_do "${SG[changer]}" load 1 0
unit_ready "${SG[drive0]}" 30

# Expected mode pages, in the order sg_modes -a lists them.
declare -A PAGES=([changer]="0a 1c 1d 1e 1f" [drive0]="01 0a 0f 10 11 1c 1d" [drive1]="01 0a 0f 10 11 1c 1d")

for d in changer drive0 drive1; do
    sg=${SG[$d]} serial=$(ident "$d" serial)

    step "$d ($sg): scsi_mandat"
    must "scsi_mandat $d" scsi_mandat -v "$sg"
    has scsi_mandat "Unit serial number: $serial"
    has scsi_mandat "^total number of bad errors: 0 *\$"
    hasnt scsi_mandat "command, failed|illegal request"

    step "$d: every VPD page of page 00h through sg_vpd and sg_inq"
    rm -f "$WORK/vpd0"
    sg_vpd -p 0 -r "$sg" >"$WORK/vpd0" || fail "sg_vpd -p 0 -r $sg"
    read -r -a b < <(od -An -v -tx1 -w4096 "$WORK/vpd0")
    ((${#b[@]} >= 4)) || fail "VPD 00h: ${#b[@]} bytes"
    n=$((16#${b[2]} << 8 | 16#${b[3]}))
    pages=("${b[@]:4:n}")
    echo "VPD pages advertised: ${pages[*]}"
    [[ ${pages[0]} == 00 && " ${pages[*]} " == *" 80 "* && " ${pages[*]} " == *" 83 "* ]] ||
        fail "$d: VPD 00h lacks 00h, 80h or 83h: ${pages[*]}"
    for p in "${pages[@]}"; do
        must "sg_vpd $d" sg_vpd -p "0x$p" "$sg"
        hasnt "sg_vpd -p 0x$p $d" "$BAD"
        [[ -n $OUT ]] || fail "sg_vpd -p 0x$p $d printed nothing"
        must "sg_inq $d" sg_inq -p "0x$p" "$sg"
        hasnt "sg_inq -p 0x$p $d" "$BAD"
        case $p in
        80) has "VPD 80h $d" "Unit serial number: $serial\$" ;;
        83)
            must "sg_vpd $d" sg_vpd -p di "$sg"
            has "VPD 83h $d" "designator type: NAA"
            has "VPD 83h $d" "vendor specific: $(printf '%-16s' "$(ident "$d" product)")$serial"
            has "VPD 83h $d" "Relative target port: 0x1"
            ;;
        b1) has "VPD B1h $d" "Manufacturer-assigned serial number: $serial\$" ;;
        esac
        echo "VPD 0x$p: sg_vpd and sg_inq decode it"
    done

    step "$d: sg_modes -a, current, changeable, default and saved values"
    for pc in 0 1 2 3; do
        must "sg_modes $d" sg_modes -a -c "$pc" "$sg"
        hasnt "sg_modes -a -c $pc $d" "$BAD"
        # Each page follows a ">> NAME, page_control: ..." line; its first byte is the code.
        got="" want=0
        while read -r x y _; do
            [[ $x == ">>" ]] && { want=1; continue; }
            ((want)) && [[ $x == 00 ]] && { printf -v x '%02x' $((16#$y & 0x3f)); got+="$x " want=0; }
        done <<<"$OUT"
        [[ ${got% } == "${PAGES[$d]}" ]] || { echo "$OUT"; fail "sg_modes -a -c $pc $d lists pages '${got% }', expected '${PAGES[$d]}'"; }
        echo "sg_modes -a -c $pc: pages ${got% }"
    done
    if [[ $d == changer ]]; then
        # Element address assignment (1Dh) as the config lays the elements out.
        must "sg_modes $d" sg_modes -p 0x1d -c 0 "$sg"
        want=$(printf '1d 12 %s %s %s %s %s %s %s %s' "$(be16 "$A_MT")" "$(be16 "$N_MT")" "$(be16 "$A_SLOT")" \
            "$(be16 "$N_SLOTS")" "$(be16 "$A_IE")" "$(be16 "$N_IE")" "$(be16 "$A_DRIVE")" "$(be16 "$N_DRIVES")")
        flat=$(sed -n 's/^ [0-9a-f]\{2\}     //p' <<<"$OUT" | tr -s ' \n' ' ')
        [[ $flat == "$want"* ]] || { echo "$OUT"; fail "page 1Dh is '$flat', expected '$want ...'"; }
        echo "page 1Dh: $want"
    fi

    step "$d: sg_logs -a"
    must "sg_logs $d" sg_logs -a "$sg"
    if [[ $d == changer ]]; then
        # sg_logs 1.46 decodes TapeAlert (2Eh) for tape devices only: a changer's is printed
        # in hex (page code with DS, 64 parameters of 5 bytes).
        has "sg_logs $d" "^ 00     ae 00 01 40 00 01 03 01"
        hasnt "sg_logs $d" "failed|malformed|truncated page"
        has "sg_logs $d" "Current temperature = [0-9]+ C"
    else
        hasnt "sg_logs $d" "unable to decode|not decoded|malformed|truncated"  # (TapeAlert names say "failed")
        has "sg_logs $d" "Tape alert page"
        has "sg_logs $d" "DT device status page"
        if [[ $d == drive0 ]]; then
            has "sg_logs $d" "Volume serial number: CLI001L8"
            has "sg_logs $d" "Main partition maximum capacity \(in MiB\): 8\$"
            has "sg_logs $d" "Total native capacity \[MB\]: 8\$"
        fi
    fi

    step "$d: sg_opcodes (REPORT SUPPORTED OPERATION CODES), without and with timeout descriptors"
    must "sg_opcodes $d" sg_opcodes "$sg"
    hasnt "sg_opcodes $d" "$BAD"
    has "sg_opcodes $d" "^ *12 .*Inquiry"
    has "sg_opcodes $d" "^ *1d .*Send diagnostic"
    n=$(grep -cE '^ *[0-9a-f]{2} ' <<<"$OUT")
    must "sg_opcodes $d" sg_opcodes -R "$sg"
    hasnt "sg_opcodes -R $d" "$BAD"
    has "sg_opcodes -R $d" "^ *12 .*Inquiry"
    has "sg_opcodes -R $d" "timeout"
    ((n == $(grep -cE '^ *[0-9a-f]{2} ' <<<"$OUT"))) || fail "sg_opcodes -R lists another number of commands"
    if [[ $d == changer ]]; then has "sg_opcodes $d" "^ *a5 .*Move medium"; else has "sg_opcodes $d" "^ *0a .*Write\(6\)"; fi
    must "sg_opcodes $d" sg_opcodes -o 0x12 -R "$sg"
    hasnt "sg_opcodes -o 0x12 -R $d" "$BAD"
    has "sg_opcodes -o 0x12 -R $d" "[Tt]imeout"
    echo "sg_opcodes: $n commands, with and without timeouts"
done

step "sg_read_attr: the MAM of CLI001L8 in drive0"
dsg=${SG[drive0]}
must "sg_read_attr" sg_read_attr "$dsg"
hasnt "sg_read_attr" "$BAD"
has sg_read_attr "Medium serial number: CLI001L8 *\$"
has sg_read_attr "Load count: 1\$"
has sg_read_attr "Maximum capacity in partition \[MiB\]: 8\$"
has sg_read_attr "Remaining capacity in partition \[MiB\]: 8\$"
has sg_read_attr "Format density code: 0x5e\$"
has sg_read_attr "Density vendor/serial number at last load: IBM +$(ident drive0 serial)"

step "WRITE ATTRIBUTE (sg_raw): application vendor, name and version, then sg_read_attr"
# Parameter list: 4-byte length, then attributes: ID(2) FORMAT(1: 01 ASCII) LENGTH(2) VALUE.
{
    attr() { printf "\\x${1:0:2}\\x${1:2:2}\\x01\\x00\\x$(printf %02x "$2")%-$2s" "$3"; }
    attr 0800 8 VTLTEST
    attr 0801 32 "vtl 112-sg3-utils"
    attr 0802 8 "1.0"
} >"$WORK/attrs.body"
len=$(stat -c %s "$WORK/attrs.body")
{ printf "\\x00\\x00\\x$(printf %02x $((len >> 8)))\\x$(printf %02x $((len & 255)))"; cat "$WORK/attrs.body"; } >"$WORK/attrs"
total=$(stat -c %s "$WORK/attrs")
must "sg_raw write-attribute" sg_raw -v -s "$total" -i "$WORK/attrs" "$dsg" \
    8d 01 00 00 00 00 00 00 00 00 00 00 00 "$(printf %02x "$total")" 00 00
must "sg_read_attr" sg_read_attr "$dsg"
hasnt "sg_read_attr" "$BAD"
has sg_read_attr "Application vendor: VTLTEST *\$"
has sg_read_attr "Application name: vtl 112-sg3-utils *\$"
has sg_read_attr "Application version: 1.0 *\$"
has sg_read_attr "Medium serial number: CLI001L8"

step "sg_reset: no reset without options; -d and -N -d: LOGICAL UNIT RESET, then UNIT ATTENTION 29/03"
must "sg_reset" sg_reset "$dsg"
must "sg_turs" sg_turs -v "$dsg"
echo "sg_reset without options: no unit attention (TEST UNIT READY is GOOD)"
for opts in "-d" "-N -d"; do
    # shellcheck disable=SC2086
    must "sg_reset" sg_reset $opts "$dsg"
    unit_ready "$dsg" 10
    [[ $UNIT_READY_NOTES == *"[UNIT ATTENTION: Bus device reset function occurred]"* ]] ||
        fail "sg_reset $opts: no UNIT ATTENTION 29/03 (saw:${UNIT_READY_NOTES:- nothing})"
    must "sg_read_attr" sg_read_attr -q -f 0x0401 "$dsg"
    [[ $OUT == *CLI001L8* ]] || fail "after sg_reset $opts the MAM does not read CLI001L8: $OUT"
    echo "sg_reset $opts: 29/03 reported, CLI001L8 still loaded"
done

step "mtx unload; scripts/lio down, SIGTERM vtld"
mtx_do "${SG[changer]}" unload 1 0
expect "lio down" "$LIO" down
trap - EXIT
stop_vtld
echo "112-sg3-utils passed in $((SECONDS - T0)) s"
