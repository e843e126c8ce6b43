#!/usr/bin/env bash
# The kernel-path benchmark, run in the guest by scripts/vm-bench (one VM boot). Prints figures,
# never judges them: it exits non-zero only when the benchmark itself breaks (a command fails,
# a byte count is wrong, the data read back differs).
#
#   kernel.sh [--vtld PATH] [--mib N] [--stream-mib N] [--moves N] [--rounds N] [--pin CPU]
#
# 1. Streaming: N MiB of 256 KiB random records written to /dev/nst0 (vtld over tcm_loop) and
#    read back, against the same dd with direct I/O on an LIO rd_mcp ramdisk exported through
#    tcm_loop in the same VM. Best of --rounds rounds, tape and ramdisk alternating. Then the
#    tape write with the drive's compression off, and 4 KiB records both ways on both (the fixed
#    cost of a command).
# 2. Four drives: 4 x dd to nst0..nst3 at once (--stream-mib each) against one drive alone with
#    the same total, written and read.
# 3. mtx load/unload with zero robot time: seconds per move, mtx's own start included, next to
#    `mtx inquiry` (mtx's start plus one command).
# --pin CPU: vtld and every dd run on that one vCPU (taskset), so no hand-off between threads
# crosses vCPUs (under TCG such a wake-up costs milliseconds); an experiment, see
# docs/vm-harness.md.
# Library: tests/vm/configs/bench.toml. Figures also go to $VTL_RESULTS/figures.
# shellcheck source=tests/vm/lib.bash
source "$(dirname "${BASH_SOURCE[0]}")/../lib.bash"

CONFIG=$VTL_REPO/tests/vm/configs/bench.toml
LIB=bench
RD=rdbench/ram
WORK=/tmp/bench-work
RECORD=$((256 * 1024))
MIB=100 STREAM_MIB=25 MOVES=5 ROUNDS=1 PIN=()
while (($#)); do
    case $1 in
        --vtld) export VTLD=${2:?}; shift 2 ;;
        --mib) MIB=${2:?}; shift 2 ;;
        --stream-mib) STREAM_MIB=${2:?}; shift 2 ;;
        --moves) MOVES=${2:?}; shift 2 ;;
        --rounds) ROUNDS=${2:?}; shift 2 ;;
        --pin) PIN=(taskset -c "${2:?}"); shift 2 ;;
        *) fail "kernel.sh: unknown argument $1" ;;
    esac
done
FIGURES=$VTL_RESULTS/figures
: >"$FIGURES"
# figure LINE: to stdout and the figures file.
figure() {
    echo "$*"
    echo "$*" >>"$FIGURES"
}

# ddrun BYTES ARGS...: dd with ARGS (LC_ALL=C); it must move exactly BYTES. Sets DD_SECS.
DD_SECS=0
ddrun() {
    local want=$1 out rc=0
    shift
    out=$(LC_ALL=C "${PIN[@]}" dd "$@" 2>&1) || rc=$?
    ((rc == 0)) || { echo "$out" >&2; fail "dd $* exited $rc"; }
    [[ $out =~ ([0-9]+)\ bytes.*copied,\ ([0-9.e+-]+)\ s ]] || { echo "$out" >&2; fail "dd $*: output not understood"; }
    ((BASH_REMATCH[1] == want)) || fail "dd $*: moved ${BASH_REMATCH[1]} bytes, expected $want"
    DD_SECS=${BASH_REMATCH[2]}
}
# rate BYTES SECONDS: MB/s (10^6 bytes, as dd prints it).
rate() { awk -v b="$1" -v s="$2" 'BEGIN { printf "%.1f", b / s / 1e6 }'; }
ratio() {
    [[ $1 =~ ^[0-9.]+$ && $2 =~ ^[0-9.]+$ ]] || { echo n/a; return 0; }
    awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'
}
best() { awk -v a="$1" -v b="$2" 'BEGIN { print (b == "" || a > b) ? a : b }'; }
now() { echo "${EPOCHREALTIME}"; }
secs_since() { awk -v a="$1" -v b="${EPOCHREALTIME}" 'BEGIN { printf "%.3f", b - a }'; }

# wait_ready SG: TEST UNIT READY until GOOD (the load's unit attentions on the way are expected).
wait_ready() {
    local out rc deadline=$((SECONDS + 30))
    while :; do
        rc=0
        out=$(sg_turs "$1" 2>&1) || rc=$?
        ((rc == 0)) && return 0
        ((SECONDS < deadline)) || { echo "$out" >&2; fail "$1 not ready 30 s after the load"; }
        sleep 0.1
    done
}

# mtx_timed ARGS...: mtx -f $CSG ARGS; sets MTX_SECS.
MTX_SECS=0
mtx_timed() {
    local t0 out rc=0
    t0=$(now)
    out=$(mtx -f "$CSG" "$@" 2>&1) || rc=$?
    MTX_SECS=$(secs_since "$t0")
    ((rc == 0)) || { echo "$out" >&2; fail "mtx $* exited $rc"; }
}

cleanup() {
    "$LIO" down --all -q 2>/dev/null || true
    [[ -n ${VTLD_PID:-} ]] && kill -TERM "$VTLD_PID" 2>/dev/null
    return 0
}

T0=$SECONDS
require_vtld_tcmu
step "modules; $VTLD"
# shellcheck disable=SC2119  # no extra modules
load_lio_modules
rm -rf "$WORK" "/tmp/vtl-state/$LIB"
mkdir -p "$WORK"
BYTES=$((MIB * 1024 * 1024))
COUNT=$((BYTES / RECORD))
step "$MIB MiB of random data in $WORK (tmpfs)"
head -c "$BYTES" /dev/urandom >"$WORK/src"

# vtld at info: what an installation runs with (the tests' debug level logs every command).
step "start vtld --config ${CONFIG#"$VTL_REPO"/} --log-level info"
VTLD_ARGS=(--state-dir /tmp/vtl-state --log-level info --config "$CONFIG")
grep -q -- '--transport' <<<"$VTLD_HELP" && VTLD_ARGS+=(--transport tcmu)
"${PIN[@]}" "$VTLD" "${VTLD_ARGS[@]}" >"$TEST_OUT/vtld.log" 2>&1 &
VTLD_PID=$!
trap cleanup EXIT
sleep 1
kill -0 "$VTLD_PID" 2>/dev/null || { cat "$TEST_OUT/vtld.log"; fail "vtld exited at start"; }

step "scripts/lio up: $LIB over tcm_loop; $RD, an rd_mcp ramdisk of $((MIB + 4)) MiB over tcm_loop"
expect "lio up $LIB" "$LIO" up --vtld "$VTLD" --config "$CONFIG" --handler-wait 60 >/dev/null
expect "lio up $RD" "$LIO" up --devices "$RD" --backstore "ramdisk:$((MIB + 4))" >/dev/null
lsscsi -g >"$TEST_OUT/lsscsi.txt"
CSG=$("$LIO" dev "$LIB/changer" sg)
SD=$("$LIO" dev "$RD" sd)
declare -a NST DSG
for d in 0 1 2 3; do
    NST[d]=$("$LIO" dev "$LIB/drive$d" nst)
    DSG[d]=$("$LIO" dev "$LIB/drive$d" sg)
done
echo "changer $CSG; drives ${NST[*]} (${DSG[*]}); ramdisk $SD"

step "mtx load 1..4 into drives 0..3; variable block mode"
for d in 0 1 2 3; do
    mtx_timed load $((d + 1)) "$d"
    wait_ready "${DSG[d]}"
    mt -f "${NST[d]}" setblk 0 || fail "mt setblk 0 on ${NST[d]}"
done

# ---- 1. one stream against the ramdisk
step "one stream: $MIB MiB in $COUNT records of 256 KiB, $ROUNDS round(s)"
rd_w="" rd_r="" tp_w="" tp_r=""
for ((round = 1; round <= ROUNDS; round++)); do
    ddrun "$BYTES" if="$WORK/src" of="$SD" bs=256k count="$COUNT" oflag=direct
    rd_w=$(best "$(rate "$BYTES" "$DD_SECS")" "$rd_w")
    echo "round $round: ramdisk write $(rate "$BYTES" "$DD_SECS") MB/s"
    mt -f "${NST[0]}" rewind || fail "mt rewind"
    ddrun "$BYTES" if="$WORK/src" of="${NST[0]}" bs=256k
    tp_w=$(best "$(rate "$BYTES" "$DD_SECS")" "$tp_w")
    echo "round $round: tape write $(rate "$BYTES" "$DD_SECS") MB/s"
    ddrun "$BYTES" if="$SD" of=/dev/null bs=256k count="$COUNT" iflag=direct
    rd_r=$(best "$(rate "$BYTES" "$DD_SECS")" "$rd_r")
    echo "round $round: ramdisk read $(rate "$BYTES" "$DD_SECS") MB/s"
    mt -f "${NST[0]}" rewind || fail "mt rewind"
    ddrun "$BYTES" if="${NST[0]}" of=/dev/null bs=256k
    tp_r=$(best "$(rate "$BYTES" "$DD_SECS")" "$tp_r")
    echo "round $round: tape read $(rate "$BYTES" "$DD_SECS") MB/s"
done
step "check: the tape's file and the ramdisk's blocks read back equal the source"
mt -f "${NST[0]}" rewind || fail "mt rewind"
cmp <(dd if="${NST[0]}" bs=256k 2>/dev/null) "$WORK/src" || fail "the tape read back differs from what was written"
cmp <(dd if="$SD" bs=256k count="$COUNT" iflag=direct 2>/dev/null) "$WORK/src" || fail "the ramdisk read back differs"
echo "both identical"

# The same write with the drive's compression off (mode page 0Fh DCE=0): what the compressor's
# attempt on incompressible records costs.
step "tape write with compression off (mt compression 0)"
tp_w_raw="n/a"
if mt -f "${NST[0]}" compression 0; then
    mt -f "${NST[0]}" rewind || fail "mt rewind"
    ddrun "$BYTES" if="$WORK/src" of="${NST[0]}" bs=256k
    tp_w_raw=$(rate "$BYTES" "$DD_SECS")
    mt -f "${NST[0]}" compression 1 || fail "mt compression 1"
else
    echo "mt compression 0 failed: no figure without compression"
fi

# ---- 1b. small records: the fixed cost of one command (what a 256 KiB record pays besides bytes)
step "small records: 512 x 4 KiB, tape and ramdisk, write and read"
SMALL=$((512 * 4096))
ddrun "$SMALL" if="$WORK/src" of="$SD" bs=4k count=512 oflag=direct
sm_rd_w=$(awk -v s="$DD_SECS" 'BEGIN { printf "%.0f", 512 / s }')
mt -f "${NST[0]}" rewind || fail "mt rewind"
ddrun "$SMALL" if="$WORK/src" of="${NST[0]}" bs=4k count=512
sm_tp_w=$(awk -v s="$DD_SECS" 'BEGIN { printf "%.0f", 512 / s }')
ddrun "$SMALL" if="$SD" of=/dev/null bs=4k count=512 iflag=direct
sm_rd_r=$(awk -v s="$DD_SECS" 'BEGIN { printf "%.0f", 512 / s }')
mt -f "${NST[0]}" rewind || fail "mt rewind"
ddrun "$SMALL" if="${NST[0]}" of=/dev/null bs=4k
sm_tp_r=$(awk -v s="$DD_SECS" 'BEGIN { printf "%.0f", 512 / s }')

# ---- 2. four drives at once against one alone, the same total
SBYTES=$((STREAM_MIB * 1024 * 1024))
SCOUNT=$((SBYTES / RECORD))
step "four drives: 4 x $STREAM_MIB MiB at once against drive0 alone with $((4 * STREAM_MIB)) MiB"
head -c "$SBYTES" "$WORK/src" >"$WORK/part"
declare -a PIDS
# streams OP: 4 dd at once (OP write or read), each must move SBYTES; sets WALL.
streams() {
    local d t0 rc=0
    for d in 0 1 2 3; do mt -f "${NST[d]}" rewind || fail "mt rewind ${NST[d]}"; done
    t0=$(now)
    for d in 0 1 2 3; do
        if [[ $1 == write ]]; then
            LC_ALL=C "${PIN[@]}" dd if="$WORK/part" of="${NST[d]}" bs=256k >"$WORK/dd$d.log" 2>&1 &
        else
            LC_ALL=C "${PIN[@]}" dd if="${NST[d]}" of=/dev/null bs=256k >"$WORK/dd$d.log" 2>&1 &
        fi
        PIDS[d]=$!
    done
    for d in 0 1 2 3; do wait "${PIDS[d]}" || rc=$?; done
    WALL=$(secs_since "$t0")
    ((rc == 0)) || { cat "$WORK"/dd?.log >&2; fail "a $1 stream failed"; }
    for d in 0 1 2 3; do
        [[ $(<"$WORK/dd$d.log") == *"$SBYTES bytes"* ]] || { cat "$WORK/dd$d.log" >&2; fail "drive$d: $1 moved the wrong count"; }
    done
}
m_w="" m_r="" s_w="" s_r=""
for ((round = 1; round <= ROUNDS; round++)); do
    mt -f "${NST[0]}" rewind || fail "mt rewind"
    ddrun $((4 * SBYTES)) if="$WORK/src" of="${NST[0]}" bs=256k count=$((4 * SCOUNT))
    s_w=$(best "$(rate $((4 * SBYTES)) "$DD_SECS")" "$s_w")
    streams write
    m_w=$(best "$(rate $((4 * SBYTES)) "$WALL")" "$m_w")
    echo "round $round: write: one drive $(rate $((4 * SBYTES)) "$DD_SECS") MB/s, four $(rate $((4 * SBYTES)) "$WALL") MB/s"
    # Each drive holds one file of SBYTES now: four read at once, then one at a time.
    streams read
    m_r=$(best "$(rate $((4 * SBYTES)) "$WALL")" "$m_r")
    t_one=0
    for d in 0 1 2 3; do
        mt -f "${NST[d]}" rewind || fail "mt rewind"
        ddrun "$SBYTES" if="${NST[d]}" of=/dev/null bs=256k
        t_one=$(awk -v a="$t_one" -v b="$DD_SECS" 'BEGIN { print a + b }')
    done
    s_r=$(best "$(rate $((4 * SBYTES)) "$t_one")" "$s_r")
    echo "round $round: read: one drive at a time $(rate $((4 * SBYTES)) "$t_one") MB/s, four at once $(rate $((4 * SBYTES)) "$WALL") MB/s"
done
for d in 0 1 2 3; do
    mt -f "${NST[d]}" rewind || fail "mt rewind"
    cmp <(dd if="${NST[d]}" bs=256k 2>/dev/null) "$WORK/part" || fail "drive$d: the stream read back differs"
done
echo "the four streams read back identical"

# ---- 3. mtx moves with zero robot time
step "mtx: unload drives 0..3, then $MOVES x (load 5 0, unload 5 0)"
for d in 0 1 2 3; do
    mt -f "${NST[d]}" offline || fail "mt offline ${NST[d]}"
    mtx_timed unload $((d + 1)) "$d"
done
mtx_timed inquiry
t_inq=$MTX_SECS
for ((i = 1; i <= MOVES; i++)); do
    mtx_timed inquiry
    t_inq=$(awk -v a="$t_inq" -v b="$MTX_SECS" 'BEGIN { print (b < a) ? b : a }')
done
t_moves=0
for ((i = 1; i <= MOVES; i++)); do
    mtx_timed load 5 0
    t_moves=$(awk -v a="$t_moves" -v b="$MTX_SECS" 'BEGIN { print a + b }')
    mtx_timed unload 5 0
    t_moves=$(awk -v a="$t_moves" -v b="$MTX_SECS" 'BEGIN { print a + b }')
done
per_move=$(awk -v t="$t_moves" -v n=$((2 * MOVES)) 'BEGIN { printf "%.3f", t / n }')

step "scripts/lio down; SIGTERM vtld"
expect "lio down" "$LIO" down >/dev/null
trap - EXIT
stop_vtld

echo
figure "== kernel-path benchmark ($(uname -r), $(nproc) vCPU, vtld $VTLD${PIN:+; vtld and dd on vCPU ${PIN[2]}})"
figure "$(printf '%-44s %9s %9s %7s' "one stream, $MIB MiB of 256 KiB records" "ramdisk" "tape" "ratio")"
figure "$(printf '%-44s %9s %9s %7s' "  write (MB/s)" "$rd_w" "$tp_w" "$(ratio "$tp_w" "$rd_w")")"
figure "$(printf '%-44s %9s %9s %7s' "  read (MB/s)" "$rd_r" "$tp_r" "$(ratio "$tp_r" "$rd_r")")"
figure "$(printf '%-44s %9s %9s %7s' "  write, drive compression off (MB/s)" "$rd_w" "$tp_w_raw" "$(ratio "$tp_w_raw" "$rd_w")")"
figure "$(printf '%-44s %9s %9s %7s' "  4 KiB records, write (commands/s)" "$sm_rd_w" "$sm_tp_w" "$(ratio "$sm_tp_w" "$sm_rd_w")")"
figure "$(printf '%-44s %9s %9s %7s' "  4 KiB records, read (commands/s)" "$sm_rd_r" "$sm_tp_r" "$(ratio "$sm_tp_r" "$sm_rd_r")")"
figure "$(printf '%-44s %9s %9s %7s' "four drives, 4 x $STREAM_MIB MiB" "one" "four" "ratio")"
figure "$(printf '%-44s %9s %9s %7s' "  write (MB/s, aggregate)" "$s_w" "$m_w" "$(ratio "$m_w" "$s_w")")"
figure "$(printf '%-44s %9s %9s %7s' "  read (MB/s, aggregate)" "$s_r" "$m_r" "$(ratio "$m_r" "$s_r")")"
figure "$(printf '%-44s %9s' "mtx load/unload, zero robot time (s/move)" "$per_move")"
figure "$(printf '%-44s %9s' "mtx inquiry (mtx's start + 1 command, s)" "$t_inq")"
figure "targets: tape/ramdisk >= 0.7 both ways; four drives >= 1.6x one ($ROUNDS round(s), best of each)"
echo "benchmark done in $((SECONDS - T0)) s"
