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
