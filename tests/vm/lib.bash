# Helpers for the guest tests in tests/vm/*.sh (sourced; they run as root inside scripts/vm).
# Exit 0: passed. Exit 77 (skip): counted as a failure by tests/vm/run, loudly.
set -euo pipefail

VTL_REPO=${VTL_REPO:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
VTL_RESULTS=${VTL_RESULTS:-/tmp}
# shellcheck disable=SC2034  # used by the tests that source this
LIO=$VTL_REPO/scripts/lio
TEST_NAME=$(basename "$0" .sh)
# Each test's own files (logs of daemons it starts): on the results share, kept after the VM.
TEST_OUT=$VTL_RESULTS/tests/$TEST_NAME
mkdir -p "$TEST_OUT"
export PATH=$PATH:/usr/local/sbin:/usr/sbin:/sbin

step() { echo "-- $(date +%T) $*"; }
fail() {
    echo "FAIL: $*" >&2
    exit 1
}
skip() {
    echo "!!!! SKIPPED: $*" >&2
    exit 77
}
# expect DESCRIPTION COMMAND...: run it, fail with its output when it fails.
expect() {
    local what=$1 out
    shift
    out=$("$@" 2>&1) || { echo "$out" >&2; fail "$what: '$*' failed"; }
    echo "$out"
}
# wait_for SECONDS DESCRIPTION COMMAND...: poll until COMMAND succeeds.
wait_for() {
    local seconds=$1 what=$2 deadline
    shift 2
    deadline=$((SECONDS + seconds))
    until "$@" >/dev/null 2>&1; do
        ((SECONDS < deadline)) || fail "$what: not after ${seconds} s"
        sleep 0.2
    done
}

load_lio_modules() {
    local m
    for m in configfs target_core_mod target_core_user tcm_loop st ch sg sd_mod "$@"; do
        modprobe "$m" || fail "modprobe $m"
    done
    mountpoint -q /sys/kernel/config || mount -t configfs configfs /sys/kernel/config
}

# Everything LIO has in configfs, to compare before `up` and after `down`.
lio_snapshot() { find /sys/kernel/config/target -mindepth 1 -maxdepth 5 \( -type d -o -type l \) 2>/dev/null | sort; }

# The vtld binary the runner chose (newest build by default).
vtld_bin() {
    if [[ -n ${VTLD:-} ]]; then
        echo "$VTLD"
    else
        ls -t "$VTL_REPO"/build/*/handler/vtld 2>/dev/null | head -n 1
    fi
}

# Skips (loudly, non-zero) while the vtld binary cannot serve LIO; sets VTLD and VTLD_HELP.
require_vtld_tcmu() {
    VTLD=$(vtld_bin)
    [[ -x $VTLD ]] || fail "no vtld binary (build one: cmake --build --preset dev)"
    VTLD_HELP=$("$VTLD" --help 2>&1) || true
    if ! grep -qiE 'tcmu|--transport' <<<"$VTLD_HELP"; then
        skip "$VTLD has no TCMU transport yet (its --help mentions neither tcmu nor --transport):" \
            "no host can reach vtld's devices, so this test cannot run"
    fi
}

# start_vtld [ARGS...]: vtld in the background with its log in TEST_OUT; sets VTLD_PID.
start_vtld() {
    local args=(--state-dir /tmp/vtl-state --log-level debug "$@")
    grep -q -- '--transport' <<<"$VTLD_HELP" && args+=(--transport tcmu)
    "$VTLD" "${args[@]}" >"$TEST_OUT/vtld.log" 2>&1 &
    VTLD_PID=$!
    sleep 1
    kill -0 "$VTLD_PID" 2>/dev/null || { cat "$TEST_OUT/vtld.log"; fail "vtld exited at start"; }
}

# SIGTERM; vtld must exit 0 within 30 s.
stop_vtld() {
    local rc=0
    kill -TERM "$VTLD_PID"
    for _ in $(seq 150); do
        kill -0 "$VTLD_PID" 2>/dev/null || break
        sleep 0.2
    done
    if kill -0 "$VTLD_PID" 2>/dev/null; then
        kill -KILL "$VTLD_PID"
        fail "vtld did not exit within 30 s of SIGTERM"
    fi
    wait "$VTLD_PID" || rc=$?
    ((rc == 0)) || { tail -n 30 "$TEST_OUT/vtld.log"; fail "vtld exited $rc after SIGTERM"; }
    # Sanitizers may report without stopping vtld (UBSan's default): any report fails the test.
    if grep -nE 'runtime error:|AddressSanitizer|LeakSanitizer' "$TEST_OUT/vtld.log"; then
        fail "vtld's log has sanitizer reports ($TEST_OUT/vtld.log)"
    fi
    echo "vtld stopped cleanly"
}

# VENDOR[dev] and PRODUCT[dev] from vtld's summary lines "  NAME VENDOR(8) PRODUCT(16) serial S".
declare -A VENDOR PRODUCT
read_identities() {
    local line v p
    while IFS= read -r line; do
        if [[ $line =~ ^\ \ ([a-z0-9_-]+)\ +(.{8})\ (.{16})\ serial ]]; then
            v=${BASH_REMATCH[2]} p=${BASH_REMATCH[3]}
            VENDOR[${BASH_REMATCH[1]}]=${v%"${v##*[! ]}"}
            PRODUCT[${BASH_REMATCH[1]}]=${p%"${p##*[! ]}"}
        fi
    done < <("$VTLD" --check "$@")
}

# check_inquiry NAME SGNODE: INQUIRY's vendor and product are vtld's.
check_inquiry() {
    local d=$1 sg=$2 inq vendor product
    inq=$(expect "sg_inq $d" sg_inq "$sg")
    vendor=$(sed -n 's/^ *Vendor identification: *//p' <<<"$inq")
    product=$(sed -n 's/^ *Product identification: *//p' <<<"$inq")
    vendor=${vendor%"${vendor##*[! ]}"} product=${product%"${product##*[! ]}"}
    echo "$d $sg: '$vendor' '$product'"
    [[ $vendor == "${VENDOR[$d]}" && $product == "${PRODUCT[$d]}" ]] ||
        fail "$d: INQUIRY says '$vendor' '$product', vtld --check says '${VENDOR[$d]}' '${PRODUCT[$d]}'"
}

# check_not_ready SGNODE: TEST UNIT READY on an empty drive is 02/3A/00, after any UNIT ATTENTION.
check_not_ready() {
    local sg=$1 out rc
    for _ in 1 2 3 4; do
        rc=0
        out=$(sg_turs -v "$sg" 2>&1) || rc=$?
        grep -qi "unit attention" <<<"$out" || break
    done
    echo "$out"
    ((rc == 2)) || fail "sg_turs $sg exited $rc, expected 2 (not ready)"
    grep -qi "medium not present" <<<"$out" || fail "sg_turs $sg: not MEDIUM NOT PRESENT"
}

# open-iscsi's daemon, in its own session: its shutdown must not reach the test's process group.
start_iscsid() {
    mkdir -p /run/lock/iscsi
    setsid iscsid -f >"$TEST_OUT/iscsid.log" 2>&1 &
    ISCSID_PID=$!
}
stop_iscsid() {
    [[ -n ${ISCSID_PID:-} ]] || return 0
    iscsiadm -k 0 >/dev/null 2>&1 || kill "$ISCSID_PID" 2>/dev/null || true
    wait "$ISCSID_PID" 2>/dev/null || true
    ISCSID_PID=""
}

# ---------------------------------------------------------------------------------------------
# Medium changer helpers (60-changer-mtx-loop, 65-changer-mtx-iscsi, 70-abort, 75-restart).

# Milliseconds since a stamp taken with T=${EPOCHREALTIME/./} (microseconds), without an exec.
ms_since() { echo $(((${EPOCHREALTIME/./} - $1) / 1000)); }

# library_layout CONFIG: the first library's name and element map from `vtld --check`
# ("elements: 1 transport at 0x0000, 2 drives at 0x0100, 2 import/export at 0x0010, 12 slots at
# 0x1000"). Sets LIB_NAME, N_MT N_DRIVES N_IE N_SLOTS and their first addresses A_MT A_DRIVE A_IE
# A_SLOT (numbers). Needs VTLD (require_vtld_tcmu).
library_layout() {
    local out re='elements: ([0-9]+) transport at 0x([0-9A-F]+), ([0-9]+) drives at 0x([0-9A-F]+), ([0-9]+) import/export at 0x([0-9A-F]+), ([0-9]+) slots at 0x([0-9A-F]+)'
    out=$(expect "vtld --check --config $1" "$VTLD" --check --config "$1")
    [[ $out =~ library\ ([a-z0-9_-]+): ]] || fail "vtld --check --config $1 names no library: $out"
    LIB_NAME=${BASH_REMATCH[1]}
    [[ $out =~ $re ]] || fail "vtld --check --config $1 prints no element map: $out"
    N_MT=${BASH_REMATCH[1]} A_MT=$((16#${BASH_REMATCH[2]}))
    N_DRIVES=${BASH_REMATCH[3]} A_DRIVE=$((16#${BASH_REMATCH[4]}))
    N_IE=${BASH_REMATCH[5]} A_IE=$((16#${BASH_REMATCH[6]}))
    N_SLOTS=${BASH_REMATCH[7]} A_SLOT=$((16#${BASH_REMATCH[8]}))
    printf 'library %s: %d robot(s) at 0x%04X, %d drive(s) at 0x%04X, %d I/E at 0x%04X, %d slot(s) at 0x%04X\n' \
        "$LIB_NAME" "$N_MT" "$A_MT" "$N_DRIVES" "$A_DRIVE" "$N_IE" "$A_IE" "$N_SLOTS" "$A_SLOT"
}

# Element addresses in mtx's numbering: slot N is mtx's Storage Element N (1-based), I/E element N
# is mtx's Storage Element N_SLOTS+N, drive N is mtx's Data Transfer Element N (0-based).
slot_addr() { echo $((A_SLOT + $1 - 1)); }
ie_addr() { echo $((A_IE + $1 - 1)); }
drive_addr() { echo $((A_DRIVE + $1)); }
# be16 NUMBER: its two bytes as sg_raw takes them ("10 0a").
be16() { printf '%02x %02x' $((($1 >> 8) & 255)) $(($1 & 255)); }
# CDBs: MOVE MEDIUM (A5h) SRC DST and EXCHANGE MEDIUM (A6h) SRC DST1 DST2, any robot.
move_cdb() { echo "a5 00 00 00 $(be16 "$1") $(be16 "$2") 00 00 00 00"; }
exchange_cdb() { echo "a6 00 00 00 $(be16 "$1") $(be16 "$2") $(be16 "$3") 00 00"; }

# mtx_status SG [OPTION...]: `mtx -f SG [OPTION...] status` (OPTION: nobarcode, altres), parsed:
#   INV[dN] (drives, from 0) and INV[sN] (storage elements, from 1, I/E after the slots): "-" when
#   empty, the volume tag when full, "full" when full without one (nobarcode);
#   INV_SRC[dN]: the storage element mtx says the drive's cartridge came from;
#   INV_LINE: every element on one line in mtx's order, for logs and before/after comparisons;
#   MTX_HEADER ("2 Drives, 14 Slots ( 2 Import/Export )"), MTX_IE (" s13 s14"), MTX_OUT.
declare -A INV=() INV_SRC=()
INV_LINE="" MTX_HEADER="" MTX_IE="" MTX_OUT=""
mtx_status() {
    local sg=$1 rc=0 line key state rest ie value
    shift
    MTX_OUT=$(mtx -f "$sg" "$@" status 2>&1) || rc=$?
    ((rc == 0)) || { echo "$MTX_OUT" >&2; fail "'mtx -f $sg $* status' exited $rc"; }
    INV=() INV_SRC=() INV_LINE="" MTX_HEADER="" MTX_IE=""
    while IFS= read -r line; do
        line=${line%"${line##*[! ]}"}
        ie=""
        if [[ $line =~ Storage\ Changer\ [^:]*:(.*)$ ]]; then
            MTX_HEADER=${BASH_REMATCH[1]}
            continue
        elif [[ $line =~ ^Data\ Transfer\ Element\ ([0-9]+):(Empty|Full)(.*)$ ]]; then
            key=d${BASH_REMATCH[1]} state=${BASH_REMATCH[2]} rest=${BASH_REMATCH[3]}
            [[ $rest =~ \(Storage\ Element\ ([0-9]+)\ Loaded\) ]] && INV_SRC[$key]=${BASH_REMATCH[1]}
        elif [[ $line =~ ^\ *Storage\ Element\ ([0-9]+)(\ IMPORT/EXPORT)?:(Empty|Full)(.*)$ ]]; then
            key=s${BASH_REMATCH[1]} ie=${BASH_REMATCH[2]} state=${BASH_REMATCH[3]} rest=${BASH_REMATCH[4]}
            [[ -n $ie ]] && MTX_IE+=" $key"
        else
            continue
        fi
        value=-
        if [[ $state == Full ]]; then
            value=full
            [[ $rest =~ VolumeTag\ ?=\ ?([^ ]+) ]] && value=${BASH_REMATCH[1]}
        fi
        INV[$key]=$value
        INV_LINE+="${INV_LINE:+ }$key=$value"
        [[ -n ${INV_SRC[$key]:-} ]] && INV_LINE+="(s${INV_SRC[$key]})"
    done <<<"$MTX_OUT"
    [[ -n $MTX_HEADER && -n $INV_LINE ]] || { echo "$MTX_OUT" >&2; fail "mtx -f $sg $* status: output not understood"; }
}

# The inventory a test expects: EXP[key] as INV. exp_move FROM TO: the model moves a cartridge.
declare -A EXP=()
exp_from_inv() {
    local k
    EXP=()
    for k in "${!INV[@]}"; do EXP[$k]=${INV[$k]}; done
}
exp_move() {
    [[ ${EXP[$1]:--} != - ]] || fail "test bug: the model has nothing in $1 to move"
    EXP[$2]=${EXP[$1]}
    EXP[$1]=-
}
# expect_model WHAT: the last mtx_status equals the model, element by element.
expect_model() {
    local what=$1 k bad=""
    for k in "${!EXP[@]}" "${!INV[@]}"; do
        [[ ${INV[$k]-<missing>} == "${EXP[$k]-<missing>}" ]] || bad+=" $k is '${INV[$k]-<missing>}', expected '${EXP[$k]-<missing>}';"
    done
    if [[ -n $bad ]]; then
        echo "$MTX_OUT"
        fail "$what: inventory differs:$bad"
    fi
    echo "inventory as expected: $INV_LINE"
}

# mtx_do SG ARGS...: an mtx command that must succeed; prints it, its output and its time.
mtx_do() {
    local sg=$1 out rc=0 t0=${EPOCHREALTIME/./}
    shift
    out=$(mtx -f "$sg" "$@" 2>&1) || rc=$?
    echo "mtx $*: exit $rc after $(ms_since "$t0") ms${out:+: ${out//$'\n'/ | }}"
    ((rc == 0)) || fail "'mtx -f $sg $*' exited $rc"
}
# mtx_refused SG ARGS...: an mtx command that must fail (mtx's own message is printed).
mtx_refused() {
    local sg=$1 out rc=0
    shift
    out=$(mtx -f "$sg" "$@" 2>&1) || rc=$?
    echo "mtx $*: exit $rc: ${out//$'\n'/ | }"
    ((rc != 0)) || fail "'mtx -f $sg $*' succeeded; it must be refused"
}

# sg_raw_sense TEXT: the raw sense bytes `sg_raw -v` printed in TEXT, into SENSE (lower-case hex).
declare -a SENSE=()
sg_raw_sense() {
    local line grab=0
    local -a b
    SENSE=()
    while IFS= read -r line; do
        if [[ $line == *"Raw sense data"* ]]; then
            grab=1
        elif ((grab)); then
            [[ $line =~ ^[[:space:]]+[0-9a-fA-F]{2}([[:space:]]+[0-9a-fA-F]{2})*[[:space:]]*$ ]] || break
            read -r -a b <<<"$line"
            SENSE+=("${b[@],,}")
        fi
    done <<<"$1"
}

# scsi SG TIMEOUT CDB-BYTES...: sg_raw -v. Sets SCSI_RC (sg_raw's exit status), SCSI_OUT,
# SENSE (the raw bytes) and SCSI_SENSE: "KEY/ASC/ASCQ" in hex ("" without sense).
scsi() {
    local sg=$1 timeout=$2
    shift 2
    SCSI_RC=0
    SCSI_OUT=$(sg_raw -v -t "$timeout" "$sg" "$@" 2>&1) || SCSI_RC=$?
    SCSI_SENSE=""
    sg_raw_sense "$SCSI_OUT"
    local -a bytes=("${SENSE[@]}")
    if ((${#bytes[@]} >= 14)) && [[ ${bytes[0]} == 7[01] || ${bytes[0]} == f[01] ]]; then
        printf -v SCSI_SENSE '%02X/%02X/%02X' $((16#${bytes[2]} & 15)) $((16#${bytes[12]})) $((16#${bytes[13]}))
    elif ((${#bytes[@]} >= 4)) && [[ ${bytes[0]} == 7[23] ]]; then
        printf -v SCSI_SENSE '%02X/%02X/%02X' $((16#${bytes[1]} & 15)) $((16#${bytes[2]})) $((16#${bytes[3]}))
    fi
}
# expect_sense WHAT KEY/ASC/ASCQ SG "CDB BYTES": the command ends in CHECK CONDITION with that sense.
expect_sense() {
    local what=$1 want=$2 sg=$3
    local -a cdb
    read -r -a cdb <<<"$4"
    scsi "$sg" 30 "${cdb[@]}"
    echo "$what: sg_raw [${cdb[*]}] -> exit $SCSI_RC, sense ${SCSI_SENSE:-none}"
    [[ $SCSI_SENSE == "$want" ]] || { echo "$SCSI_OUT"; fail "$what: sense ${SCSI_SENSE:-none}, expected $want"; }
}

# unit_ready SG [SECONDS]: TEST UNIT READY until GOOD. UNIT ATTENTIONs (after a reset LIO raises its
# own 29/03 and the logical unit another, so hosts see two) and 02/04/01 (becoming ready) are
# printed and tolerated for SECONDS (default 10); anything else fails. UNIT_READY_NOTES: what it saw.
unit_ready() {
    local sg=$1 seconds=${2:-10} out rc deadline line notes=""
    # shellcheck disable=SC2034  # read by the tests
    UNIT_READY_NOTES=""
    deadline=$((SECONDS + seconds))
    while :; do
        rc=0
        out=$(sg_turs -v "$sg" 2>&1) || rc=$?
        if ((rc == 0)); then
            echo "$sg ready${notes:+ after:$notes}"
            # shellcheck disable=SC2034
            UNIT_READY_NOTES=$notes
            return 0
        fi
        line=""
        [[ $out =~ Additional\ sense:\ ([^$'\n']*) ]] && line=${BASH_REMATCH[1]}
        if [[ ${out,,} == *"unit attention"* ]]; then
            notes+=" [UNIT ATTENTION: $line]"
        elif [[ ${out,,} == *"becoming ready"* ]]; then
            [[ $notes == *"becoming ready"* ]] || notes+=" [NOT READY: $line]"
            sleep 0.2
        else
            break
        fi
        ((SECONDS < deadline)) || break
    done
    echo "$out" >&2
    fail "$sg is not ready (sg_turs exit $rc)${notes:+ after:$notes}"
}

# element_at SG ADDRESS: READ ELEMENT STATUS (VOLTAG) of one element through sg. Sets ELEM_FULL
# (0 or 1), ELEM_TAG (volume tag, "" without one) and ELEM_SRC (source address, "" unless SVALID).
element_at() {
    local sg=$1 addr=$2 f=/tmp/element-at.$$ rc=0 out
    local -a b a
    read -r -a a <<<"$(be16 "$addr")"
    rm -f "$f"
    out=$(sg_raw -t 30 -r 512 -o "$f" "$sg" b8 10 "${a[@]}" 00 01 00 00 02 00 00 00 2>&1) || rc=$?
    [[ $rc == 0 && -s $f ]] || { echo "$out"; fail "READ ELEMENT STATUS of 0x$(printf %04X "$addr") through $sg: sg_raw exit $rc"; }
    read -r -a b < <(od -An -v -tx1 -w4096 "$f")
    rm -f "$f"
    # 8-byte header, 8-byte page header (PVOLTAG in byte 1 bit 7), then the descriptor.
    ((${#b[@]} >= 28)) || fail "READ ELEMENT STATUS of 0x$(printf %04X "$addr"): ${#b[@]} bytes"
    (((16#${b[16]} << 8 | 16#${b[17]}) == addr)) || fail "READ ELEMENT STATUS of 0x$(printf %04X "$addr") describes 0x${b[16]}${b[17]}"
    ELEM_FULL=$((16#${b[18]} & 1)) ELEM_TAG="" ELEM_SRC=""
    # shellcheck disable=SC2034  # used by the tests
    ((16#${b[25]} & 0x80)) && ELEM_SRC=$((16#${b[26]} << 8 | 16#${b[27]}))
    if (((16#${b[9]} & 0x80) && ${#b[@]} >= 60)); then
        local i c
        for ((i = 28; i < 60; i++)); do
            printf -v c '%b' "\\x${b[i]}"
            ELEM_TAG+=$c
        done
        ELEM_TAG=${ELEM_TAG%"${ELEM_TAG##*[! ]}"}
    fi
}

# check_ch_binding SG SCH: the ch driver is bound to the changer behind SG: SCH is a character
# device of the "ch" major, and /sys/class/scsi_changer/<sch> is the SCSI device of SG.
check_ch_binding() {
    local sg=$1 sch=$2 major="" line a b
    [[ -c $sch ]] || fail "$sch is not a character device: the ch driver did not bind"
    while read -r line; do [[ $line =~ ^([0-9]+)\ ch$ ]] && major=${BASH_REMATCH[1]}; done </proc/devices
    [[ -n $major ]] || fail "no 'ch' major in /proc/devices"
    [[ $(stat -c %t "$sch") == $(printf %x "$major") ]] || fail "$sch is not of the ch major $major"
    a=$(readlink -f "/sys/class/scsi_changer/${sch##*/}/device") || fail "no /sys/class/scsi_changer/${sch##*/}"
    b=$(readlink -f "/sys/class/scsi_generic/${sg##*/}/device")
    [[ $a == "$b" ]] || fail "/sys/class/scsi_changer/${sch##*/} is $a, but $sg is $b"
    local all=(/sys/class/scsi_changer/*)
    echo "ch bound: $sch (major $major) = ${a##*/} = $sg; /sys/class/scsi_changer: ${all[*]##*/}"
}

# chio SCH params | elem TYPE UNIT | move FTYPE FUNIT TTYPE TUNIT: the ch driver's own ioctls
# (linux/chio.h: CHIOGPARAMS, CHIOGELEM, CHIOMOVE); TYPE is mt, st, ie or dt, UNIT counts from 0
# within the type. Prints "pickers=1 slots=12 portals=2 drives=2", "full tag=VTL001L8 src=st0" or
# "ok"; a refused move prints the errno name (EBADE, EXFULL, ...) and exits 1.
chio() {
    /usr/bin/python3 - "$@" <<'PY'
import errno, fcntl, os, struct, sys

dev, action, *args = sys.argv[1:]
TYPES = {"mt": 0, "st": 1, "ie": 2, "dt": 3}
NAMES = {v: k for k, v in TYPES.items()}

def ioc(direction, nr, size):  # _IOR = 2, _IOW = 1
    return (direction << 30) | (size << 16) | (ord("c") << 8) | nr

fd = os.open(dev, os.O_RDWR)
if action == "params":
    buf = bytearray(20)
    fcntl.ioctl(fd, ioc(2, 6, len(buf)), buf)
    _, pickers, slots, portals, drives = struct.unpack("5i", buf)
    print(f"pickers={pickers} slots={slots} portals={portals} drives={drives}")
elif action == "elem":
    layout = "8i36s36si"
    buf = bytearray(struct.pack(layout, TYPES[args[0]], int(args[1]), 0, 0, 0, 0, 0, 0, b"", b"", 0))
    fcntl.ioctl(fd, ioc(1, 16, len(buf)), buf)
    _, _, status, _, srctype, srcunit, _, _, pvoltag, _, flags = struct.unpack(layout, buf)
    tag = pvoltag.split(b"\0")[0].decode(errors="replace").strip() if flags & 0x10 else ""
    src = f"{NAMES.get(srctype, srctype)}{srcunit}" if flags & 0x04 else "-"
    print(f"{'full' if status & 1 else 'empty'} tag={tag or '-'} src={src}")
elif action == "move":
    ft, fu, tt, tu = TYPES[args[0]], int(args[1]), TYPES[args[2]], int(args[3])
    try:
        fcntl.ioctl(fd, ioc(1, 1, 20), struct.pack("5i", ft, fu, tt, tu, 0))
    except OSError as e:
        print(errno.errorcode.get(e.errno, str(e.errno)))
        sys.exit(1)
    print("ok")
else:
    sys.exit(f"chio: unknown action {action}")
PY
}

# changer_mtx_suite SG SCH DRIVE0_SG: the changer of tests/vm/configs/changer.toml through the
# host's tools: mtx (status with and without barcodes, altres, load, unload, transfer, exchange,
# inventory), the ch driver's ioctls, refused moves with their exact sense, and an inventory that
# refused commands leave alone. Shared by 60-changer-mtx-loop and 65-changer-mtx-iscsi; needs
# library_layout of that config and a library fresh from it.
changer_mtx_suite() {
    local sg=$1 sch=$2 dsg=$3 k n out before barcodes nobarcodes beyond
    ((N_MT == 1 && N_DRIVES == 2 && N_IE == 2 && N_SLOTS == 12)) ||
        fail "changer_mtx_suite wants configs/changer.toml's layout (1 robot, 2 drives, 2 I/E, 12 slots)"

    step "changer $sg: ready; the ch driver bound as $sch"
    unit_ready "$sg"
    check_ch_binding "$sg" "$sch"
    out=$(chio "$sch" params) || fail "CHIOGPARAMS on $sch failed"
    echo "CHIOGPARAMS: $out"
    [[ $out == "pickers=$N_MT slots=$N_SLOTS portals=$N_IE drives=$N_DRIVES" ]] ||
        fail "the ch driver counted '$out' (MODE SENSE page 1Dh); the config has $N_MT/$N_SLOTS/$N_IE/$N_DRIVES"

    step "mtx status (with barcodes)"
    mtx_status "$sg"
    echo "$MTX_OUT"
    [[ $MTX_HEADER == "$N_DRIVES Drives, $((N_SLOTS + N_IE)) Slots ( $N_IE Import/Export )" ]] ||
        fail "mtx header '$MTX_HEADER'"
    [[ $MTX_IE == " s$((N_SLOTS + 1)) s$((N_SLOTS + 2))" ]] || fail "mtx shows I/E elements at '$MTX_IE'"
    EXP=()
    for ((n = 0; n < N_DRIVES; n++)); do EXP[d$n]=-; done
    for ((n = 1; n <= N_SLOTS + N_IE; n++)); do EXP[s$n]=-; done
    for n in 1 2 3 4 5 6; do EXP[s$n]=VTL00${n}L8; done
    expect_model "the configured inventory (VTL001L8..VTL006L8 in slots 1-6)"
    barcodes=$INV_LINE

    step "mtx nobarcode status: the same elements full, no volume tags"
    mtx_status "$sg" nobarcode
    for k in "${!EXP[@]}"; do [[ ${EXP[$k]} == - ]] || EXP[$k]=full; done
    expect_model "mtx nobarcode status"
    nobarcodes=$INV_LINE
    exp_from_inv

    step "mtx altres status (walks every element type from address 0)"
    mtx_status "$sg" altres
    [[ $INV_LINE == "$barcodes" ]] || { echo "$MTX_OUT"; fail "mtx altres status differs: $INV_LINE"; }
    mtx_status "$sg" altres nobarcode
    [[ $INV_LINE == "$nobarcodes" ]] || { echo "$MTX_OUT"; fail "mtx altres nobarcode status differs: $INV_LINE"; }
    echo "altres: same inventory, with and without barcodes"

    step "one element through the ch driver (CHIOGELEM) and through sg (READ ELEMENT STATUS)"
    out=$(chio "$sch" elem st 0) || fail "CHIOGELEM st 0"
    echo "CHIOGELEM st 0: $out"
    [[ $out == "full tag=VTL001L8 "* ]] || fail "CHIOGELEM st 0 says '$out', expected full, VTL001L8"
    out=$(chio "$sch" elem st 6) || fail "CHIOGELEM st 6"
    echo "CHIOGELEM st 6: $out"
    [[ $out == "empty "* ]] || fail "CHIOGELEM st 6 says '$out', expected empty"
    element_at "$sg" "$(slot_addr 2)"
    echo "READ ELEMENT STATUS slot 2: full=$ELEM_FULL tag='$ELEM_TAG'"
    [[ $ELEM_FULL == 1 && $ELEM_TAG == VTL002L8 ]] || fail "slot 2: full=$ELEM_FULL tag='$ELEM_TAG'"

    mtx_status "$sg"
    exp_from_inv
    step "mtx load 1 0"
    mtx_do "$sg" load 1 0
    exp_move s1 d0
    mtx_status "$sg"
    expect_model "after mtx load 1 0"
    [[ ${INV_SRC[d0]:-} == 1 ]] || fail "mtx says drive 0's cartridge came from '${INV_SRC[d0]:-}', expected 1"
    out=$(chio "$sch" elem dt 0) || fail "CHIOGELEM dt 0"
    echo "CHIOGELEM dt 0: $out"
    [[ $out == "full tag=VTL001L8 src=st0" ]] || fail "CHIOGELEM dt 0 says '$out', expected full, VTL001L8 from st0"
    echo "drive0 ($dsg) loads the cartridge:"
    unit_ready "$dsg" 30

    step "mtx unload 1 0"
    mtx_do "$sg" unload 1 0
    exp_move d0 s1
    mtx_status "$sg"
    expect_model "after mtx unload 1 0"
    [[ $INV_LINE == "$barcodes" ]] || fail "the inventory is not the configured one after load and unload"
    check_not_ready "$dsg"

    step "mtx transfer 2 8"
    mtx_do "$sg" transfer 2 8
    exp_move s2 s8
    mtx_status "$sg"
    expect_model "after mtx transfer 2 8"

    step "mtx exchange 3 8 (EXCHANGE MEDIUM, a swap)"
    mtx_do "$sg" exchange 3 8
    k=${EXP[s3]} EXP[s3]=${EXP[s8]} EXP[s8]=$k
    mtx_status "$sg"
    expect_model "after mtx exchange 3 8"

    step "mtx exchange 3 8 9 (EXCHANGE MEDIUM: 8 goes to 9, 3 to 8)"
    mtx_do "$sg" exchange 3 8 9
    exp_move s8 s9
    exp_move s3 s8
    mtx_status "$sg"
    expect_model "after mtx exchange 3 8 9"

    step "mtx load 4 1, then mtx unload 10 1 (into another slot)"
    mtx_do "$sg" load 4 1
    exp_move s4 d1
    mtx_status "$sg"
    expect_model "after mtx load 4 1"
    mtx_do "$sg" unload 10 1
    exp_move d1 s10
    mtx_status "$sg"
    expect_model "after mtx unload 10 1"

    step "mtx transfer 5 $((N_SLOTS + 1)) (into the first I/E element)"
    mtx_do "$sg" transfer 5 $((N_SLOTS + 1))
    exp_move s5 s$((N_SLOTS + 1))
    mtx_status "$sg"
    expect_model "after mtx transfer 5 $((N_SLOTS + 1))"

    step "mtx inventory (INITIALIZE ELEMENT STATUS) changes nothing"
    before=$INV_LINE
    mtx_do "$sg" inventory
    mtx_status "$sg"
    expect_model "after mtx inventory"

    step "a move through the ch driver: CHIOMOVE st 5 -> st 10 (slot 6 -> slot 11)"
    out=$(chio "$sch" move st 5 st 10) || fail "CHIOMOVE st 5 -> st 10: $out"
    echo "CHIOMOVE: $out"
    exp_move s6 s11
    mtx_status "$sg"
    expect_model "after CHIOMOVE st 5 -> st 10"

    # Now: slots 1 8 9 10 11 and I/E 13 full; slots 2-7 and 12, I/E 14 and both drives empty.
    step "refused commands: exact sense, and the inventory stays as it is"
    [[ ${INV[s2]} == - && ${INV[s8]} != - && ${INV[s9]} != - && ${INV[d0]} == - ]] || fail "test bug: unexpected state $INV_LINE"
    before=$INV_LINE
    echo "before: $before"
    beyond=$((A_SLOT + N_SLOTS))
    for k in "$A_MT:$N_MT" "$A_DRIVE:$N_DRIVES" "$A_IE:$N_IE"; do
        ((beyond < ${k%:*} || beyond >= ${k%:*} + ${k#*:})) || fail "test bug: 0x$(printf %04X $beyond) is an element"
    done
    expect_sense "MOVE MEDIUM from empty slot 2 to slot 12" 05/3B/0E "$sg" "$(move_cdb "$(slot_addr 2)" "$(slot_addr 12)")"
    expect_sense "MOVE MEDIUM from slot 8 to full slot 9" 05/3B/0D "$sg" "$(move_cdb "$(slot_addr 8)" "$(slot_addr 9)")"
    expect_sense "MOVE MEDIUM to 0x$(printf %04X $beyond), no element" 05/21/01 "$sg" "$(move_cdb "$(slot_addr 8)" "$beyond")"
    expect_sense "MOVE MEDIUM from empty drive 0" 05/3B/0E "$sg" "$(move_cdb "$(drive_addr 0)" "$(slot_addr 12)")"
    expect_sense "EXCHANGE MEDIUM from empty slot 2" 05/3B/0E "$sg" "$(exchange_cdb "$(slot_addr 2)" "$(slot_addr 8)" "$(slot_addr 2)")"
    mtx_refused "$sg" load 2 0
    mtx_refused "$sg" transfer 8 9
    out=$(chio "$sch" move st 1 st 11) && fail "CHIOMOVE from empty slot 2 succeeded"
    echo "CHIOMOVE st 1 (empty) -> st 11: $out"
    [[ $out == EBADE ]] || fail "CHIOMOVE from an empty slot: $out, expected EBADE (05/3B/0E)"
    out=$(chio "$sch" move st 7 st 8) && fail "CHIOMOVE into full slot 9 succeeded"
    echo "CHIOMOVE st 7 -> st 8 (full): $out"
    [[ $out == EXFULL ]] || fail "CHIOMOVE into a full slot: $out, expected EXFULL (05/3B/0D)"
    mtx_status "$sg"
    expect_model "after the refused commands"
    [[ $INV_LINE == "$before" ]] || fail "refused commands changed the inventory: $INV_LINE"
    unit_ready "$sg"
    echo "the changer suite passed; final inventory: $INV_LINE"
}

# restart_vtld [ARGS...]: start vtld again as start_vtld does, appending to the same log.
restart_vtld() {
    local args=(--state-dir /tmp/vtl-state --log-level debug "$@")
    grep -q -- '--transport' <<<"$VTLD_HELP" && args+=(--transport tcmu)
    echo "--- $(date +%T.%N) restart: $VTLD ${args[*]}" >>"$TEST_OUT/vtld.log"
    "$VTLD" "${args[@]}" >>"$TEST_OUT/vtld.log" 2>&1 &
    VTLD_PID=$!
    sleep 1
    kill -0 "$VTLD_PID" 2>/dev/null || { tail -n 30 "$TEST_OUT/vtld.log"; fail "vtld exited at restart"; }
}

# iscsi_login IQN LUNS [NAME=VALUE...]: open-iscsi logged in to IQN at 127.0.0.1:3260 and the LUNS
# LUNs behind it scanned (55-vtld-iscsi, 65-changer-mtx-iscsi, 85-tape-iscsi, 96-iscsi-session,
# 98-netem-digest). The first call of a test starts iscsid and runs discovery; NAME=VALUE are
# node settings made before the login. Leaves `lsscsi -t -g` in $TEST_OUT/lsscsi.txt.
iscsi_login() {
    local iqn=$1 luns=$2 kv n deadline
    shift 2
    if [[ -z ${ISCSID_PID:-} ]]; then
        start_iscsid
        wait_for 30 "iscsid starts and discovery answers" iscsiadm -m discovery -t st -p 127.0.0.1
    fi
    for kv in "$@"; do
        expect "iscsiadm update ${kv%%=*}" iscsiadm -m node -T "$iqn" -p 127.0.0.1 -o update -n "${kv%%=*}" -v "${kv#*=}" >/dev/null
        echo "node ${kv%%=*} = ${kv#*=}"
    done
    expect "login" iscsiadm -m node -T "$iqn" -p 127.0.0.1 --login
    deadline=$((SECONDS + 60))
    while n=$(lsscsi -t | grep -c "$iqn"); ((n != luns)); do
        ((SECONDS < deadline)) || fail "$luns LUNs behind $iqn: $n after 60 s"
        sleep 0.2
    done
    lsscsi -t -g | tee "$TEST_OUT/lsscsi.txt"
}

# loop_library_up: vtld serving $CONFIG (log level info: the clients send tens of thousands of
# commands) and scripts/lio up over tcm_loop, with an EXIT trap that takes both down; sets
# VTLD_PID, and CSG, DSG and NST of library $LIB's changer and drive0 (102-amanda, bacula.bash).
loop_library_up() {
    step "start $VTLD --config ${CONFIG#"$VTL_REPO"/}"
    "$VTLD" --state-dir /tmp/vtl-state --log-level info --config "$CONFIG" >"$TEST_OUT/vtld.log" 2>&1 &
    VTLD_PID=$!
    sleep 1
    kill -0 "$VTLD_PID" 2>/dev/null || { cat "$TEST_OUT/vtld.log"; fail "vtld exited at start"; }
    trap '"$LIO" down --all -q 2>/dev/null || true; kill -TERM "$VTLD_PID" 2>/dev/null || true' EXIT

    step "scripts/lio up --config (tcm_loop)"
    expect "lio up" "$LIO" up --vtld "$VTLD" --config "$CONFIG" --handler-wait 60
    lsscsi -g | tee "$TEST_OUT/lsscsi.txt"
    CSG=$(expect "changer sg node" "$LIO" dev "$LIB/changer" sg)
    DSG=$(expect "drive0 sg node" "$LIO" dev "$LIB/drive0" sg)
    NST=$(expect "drive0 nst node" "$LIO" dev "$LIB/drive0" nst)
    echo "changer $CSG; drive0 $DSG $NST"
    unit_ready "$CSG"
}

# iscsi_library_up LIB [ARGS...]: `scripts/lio up --vtld $VTLD ARGS... --fabric iscsi` for the
# running vtld; sets iqn to library LIB's target and the EXIT trap iscsi_cleanup (55-vtld-iscsi,
# 65-changer-mtx-iscsi, 85-tape-iscsi). iscsi_library_down is the clean way back.
iscsi_library_up() {
    local lib=$1
    shift
    iqn=""
    trap iscsi_cleanup EXIT
    expect "lio up" "$LIO" up --vtld "$VTLD" "$@" --fabric iscsi --handler-wait 60
    iqn=$(awk '$1 == "iscsi" {print $3}' "/run/vtl-lio/$lib.state")
    iqn=${iqn##*/}
    [[ -n $iqn ]] || fail "no iSCSI target in /run/vtl-lio/$lib.state"
    echo "target $iqn"
}
# iscsi_cleanup: on a failure, logout from $iqn, stop iscsid, everything down, SIGTERM vtld.
iscsi_cleanup() {
    [[ -n $iqn ]] && iscsiadm -m node -T "$iqn" -p 127.0.0.1 --logout >/dev/null 2>&1
    stop_iscsid
    "$LIO" down --all -q 2>/dev/null || true
    kill -TERM "$VTLD_PID" 2>/dev/null || true
}
# iscsi_library_down: logout from $iqn, stop iscsid, scripts/lio down, and vtld must stop cleanly.
iscsi_library_down() {
    step "logout, down, SIGTERM vtld"
    expect "logout" iscsiadm -m node -T "$iqn" -p 127.0.0.1 --logout
    iqn=""
    stop_iscsid
    expect "lio down" "$LIO" down
    trap - EXIT
    stop_vtld
}
# configfs_as_before BEFORE: lio_snapshot is BEFORE again (taken before vtld started).
configfs_as_before() {
    local after
    after=$(lio_snapshot)
    if [[ $1 != "$after" ]]; then
        diff <(echo "$1") <(echo "$after") || true
        fail "configfs differs after down"
    fi
    echo "configfs is as before"
}

# nst_of_sg SG: the st driver's /dev/nstN for the tape at sg node SG, once st has bound it
# (within 20 s; 85-tape-iscsi, 96-iscsi-session).
nst_of_sg() {
    local d n
    for _ in $(seq 100); do
        for d in "/sys/class/scsi_generic/${1##*/}/device/scsi_tape/"nst*; do
            n=${d##*/}
            [[ $n =~ ^nst[0-9]+$ && -c /dev/$n ]] && { echo "/dev/$n"; return 0; }
        done
        sleep 0.2
    done
    return 1
}
