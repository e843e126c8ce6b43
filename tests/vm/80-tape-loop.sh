#!/usr/bin/env bash
# The SSC tape drive through the kernel's st driver over tcm_loop, driven the way hosts drive it.
# A cartridge loaded with mtx; `mt status` at BOP; five files of variable records from 64 KiB to
# 1 MiB (tcm_loop's ceiling) written with dd, read back byte-identical with dd reads larger than
# the records; `mt tell` exact after every write and motion (rewind, fsf, bsf, eod, seek) and
# `mt status` file numbers; weof makes empty files; tar of a tree of a few MB to tape and back,
# byte-identical; fixed-block mode (mt setblk 64 KiB and 1 MiB) written and read back; short
# records read through st without and with SILI (mt stsetoptions sili), a read smaller than a
# record refused; and READ(6) through sg_raw: SILI=0 gives NO SENSE + ILI with the residual in
# INFORMATION and the record's bytes, SILI=1 gives GOOD and the record's bytes.
# Library: tests/vm/configs/tape-drive.toml. 85-tape-iscsi sources this file for its functions.
# shellcheck source=tests/vm/lib.bash
source "$(dirname "${BASH_SOURCE[0]}")/lib.bash"

TAPE_CONFIG=$VTL_REPO/tests/vm/configs/tape-drive.toml
TAPE_LIB=tape
WORK=/tmp/tape-work
KiB=1024 MiB=$((1024 * 1024))

# ---- helpers (local to the tape tests)

# run CMD...: print it, run it, print its output; fail when it fails.
run() {
    local out rc=0
    out=$("$@" 2>&1) || rc=$?
    echo "\$ $*${out:+$'\n'$out}"
    ((rc == 0)) || fail "'$*' exited $rc"
}
# mt_ok ARGS...: mt -f $NST ARGS, must succeed.
mt_ok() { run mt -f "$NST" "$@"; }
# tell_is N: `mt tell` says "At block N."
tell_is() {
    local out
    out=$(mt -f "$NST" tell 2>&1) || fail "mt tell failed: $out"
    [[ $out =~ At\ block\ ([0-9]+) ]] || fail "mt tell: '$out' not understood"
    echo "mt tell: block ${BASH_REMATCH[1]} (expected $1)"
    ((BASH_REMATCH[1] == $1)) || fail "mt tell says block ${BASH_REMATCH[1]}, expected $1"
}
# status_is FILE [BLOCK]: `mt status` shows File number=FILE (and block number=BLOCK when given).
MT_STATUS=""
status_is() {
    local f b
    MT_STATUS=$(mt -f "$NST" status 2>&1) || { echo "$MT_STATUS"; fail "mt status failed"; }
    [[ $MT_STATUS =~ File\ number=(-?[0-9]+),\ block\ number=(-?[0-9]+) ]] || { echo "$MT_STATUS"; fail "mt status not understood"; }
    f=${BASH_REMATCH[1]} b=${BASH_REMATCH[2]}
    echo "mt status: file $f, block $b (expected file $1${2:+, block $2})"
    [[ $f == "$1" ]] || { echo "$MT_STATUS"; fail "mt status: file number $f, expected $1"; }
    [[ -z ${2:-} || $b == "$2" ]] || { echo "$MT_STATUS"; fail "mt status: block number $b, expected $2"; }
}
# at POSITION FILE [BLOCK]: tell and status both.
at() {
    tell_is "$1"
    status_is "$2" "${3:-}"
}
# same WHAT A B: byte-identical files.
same() {
    local a b
    a=$(stat -c %s "$2") b=$(stat -c %s "$3")
    cmp "$2" "$3" || fail "$1: $3 ($b bytes) differs from $2 ($a bytes)"
    echo "$1: $b bytes, identical"
}

# Expected position model: POS (logical object number as READ POSITION counts it: records and
# filemarks) and FILE (st's file number); START[k] is where file k begins.
POS=0 FILE=0
declare -a START=()
# write_file NAME RECSIZE COUNT: COUNT random records of RECSIZE bytes into $WORK/NAME, written
# as one tape file (dd, one write per record; st writes a filemark at close).
write_file() {
    local name=$1 rs=$2 n=$3
    head -c $((rs * n)) /dev/urandom >"$WORK/$name"
    START[FILE]=$POS
    run dd if="$WORK/$name" of="$NST" bs="$rs" count="$n"
    POS=$((POS + n + 1)) FILE=$((FILE + 1))
    at "$POS" "$FILE" 0
}
# read_file NAME BS [WHAT]: read one tape file from the current position with dd bs=BS until the
# filemark; it must equal $WORK/NAME.
read_file() {
    rm -f "$WORK/out"
    run dd if="$NST" of="$WORK/out" bs="$2"
    same "${3:-file $1 read with bs=$2}" "$WORK/$1" "$WORK/out"
}

# load_cartridge CHANGER_SG DRIVE_SG: mtx load 1 0, then TEST UNIT READY until GOOD (02/04/01
# while loading and the UNIT ATTENTION after it are expected and printed).
load_cartridge() {
    local csg=$1 dsg=$2 out rc deadline=$((SECONDS + 30)) notes=""
    run mtx -f "$csg" load 1 0
    while :; do
        rc=0
        out=$(sg_turs -v "$dsg" 2>&1) || rc=$?
        ((rc == 0)) && break
        if [[ ${out,,} == *"unit attention"* || ${out,,} == *"becoming ready"* ]]; then
            [[ $notes == *"${out##*Additional sense: }"* ]] || notes+=" [${out##*Additional sense: }]"
        else
            echo "$out"
            fail "drive $dsg: sg_turs exit $rc after the load"
        fi
        ((SECONDS < deadline)) || fail "drive $dsg not ready 30 s after the load:$notes"
        sleep 0.2
    done
    echo "drive $dsg ready after:${notes:- nothing}"
}

# sg_read6 SG SILI LEN: READ(6) in variable mode for LEN bytes through sg_raw -v; data to
# $WORK/sgout. Sets SG_RC, SG_OUT and SENSE (the raw sense bytes, an array of hex strings).
declare -a SENSE=()
sg_read6() {
    local sg=$1 sili=$2 len=$3 line grab=0
    local -a b
    rm -f "$WORK/sgout"
    SG_RC=0
    SG_OUT=$(sg_raw -v -t 30 -r "$len" -o "$WORK/sgout" "$sg" 08 $((sili ? 2 : 0)) \
        "$(printf %02x $(((len >> 16) & 255)))" "$(printf %02x $(((len >> 8) & 255)))" \
        "$(printf %02x $((len & 255)))" 00 2>&1) || SG_RC=$?
    echo "$SG_OUT"
    SENSE=()
    while IFS= read -r line; do
        if [[ $line == *"sense data"* || $line == *"Sense data"* ]]; then
            grab=1
        elif ((grab)); then
            [[ $line =~ ^[[:space:]]*[0-9a-fA-F]{2}([[:space:]]+[0-9a-fA-F]{2})*[[:space:]]*$ ]] || break
            read -r -a b <<<"$line"
            SENSE+=("${b[@]}")
        fi
    done <<<"$SG_OUT"
    touch "$WORK/sgout"
    echo "sg_raw READ(6) SILI=$sili LEN=$len: exit $SG_RC, $(stat -c %s "$WORK/sgout") bytes, sense [${SENSE[*]}]"
}

# ---- the suites

# tape_positioning_suite MAXREC: files of variable records from 64 KiB up to MAXREC, positioned
# and read back; weof; tar. Expects a freshly loaded cartridge at BOP and POS/FILE at 0.
tape_positioning_suite() {
    local maxrec=$1 rs n k tree i

    step "mt status after the load: BOT, ONLINE, file 0 block 0"
    at 0 0 0
    echo "$MT_STATUS"
    grep -q ' BOT' <<<"$MT_STATUS" || fail "mt status does not show BOT"
    grep -q 'ONLINE' <<<"$MT_STATUS" || fail "mt status does not show ONLINE"
    # st's defaults on purpose: LOCATE(10) and READ POSITION with BT=1 (not scsi2logical).
    mt_ok setblk 0
    grep -q 'Tape block size 0 bytes' <<<"$(mt -f "$NST" status)" || fail "mt setblk 0 did not select variable mode"

    step "variable records from 64 KiB to $((maxrec / KiB)) KiB, one file per size"
    declare -ga RECSIZES=()
    for ((rs = 64 * KiB; rs <= maxrec; rs *= 2)); do RECSIZES+=("$rs"); done
    for ((k = 0; k < ${#RECSIZES[@]}; k++)); do
        rs=${RECSIZES[k]}
        n=$((rs >= 4 * MiB ? 2 : 4))
        echo "file $k: $n records of $((rs / KiB)) KiB"
        write_file "f$k" "$rs" "$n"
    done
    local nfiles=${#RECSIZES[@]} eod=$POS

    step "mt rewind; read every file back (dd with a bigger bs than the record where the fabric allows)"
    mt_ok rewind
    at 0 0 0
    for ((k = 0; k < nfiles; k++)); do
        rs=${RECSIZES[k]}
        read_file "f$k" $((rs * 2 <= maxrec ? rs * 2 : rs))
        at $((k + 1 < nfiles ? START[k + 1] : eod)) $((k + 1)) 0
    done

    step "mt rewind; mt fsf 2: at the start of file 2"
    mt_ok rewind
    mt_ok fsf 2
    at "${START[2]}" 2 0
    read_file f2 "${RECSIZES[2]}"
    at "${START[3]}" 3 0

    step "mt bsf 2: before the filemark that ends file 1; mt fsf 1: start of file 2"
    mt_ok bsf 2
    tell_is $((START[2] - 1))
    status_is 1
    mt_ok fsf 1
    at "${START[2]}" 2 0
    read_file f2 "${RECSIZES[2]}" "file 2 again"

    step "mt eod: at end of data, file $nfiles (st: block number -1 after MTEOM)"
    mt_ok eod
    at "$eod" "$nfiles" # st reports block -1 after MTEOM

    step "mt seek to a record inside file 1 (second record) and file 0 (first), read one record each"
    rs=${RECSIZES[1]}
    mt_ok seek $((START[1] + 1))
    tell_is $((START[1] + 1))
    rm -f "$WORK/out"
    run dd if="$NST" of="$WORK/out" bs="$rs" count=1
    head -c $((2 * rs)) "$WORK/f1" | tail -c "$rs" >"$WORK/want"
    same "file 1, record 1 after mt seek" "$WORK/want" "$WORK/out"
    tell_is $((START[1] + 2))
    mt_ok seek "${START[0]}"
    tell_is "${START[0]}"
    rm -f "$WORK/out"
    run dd if="$NST" of="$WORK/out" bs=$((1 * MiB)) count=1
    head -c $((64 * KiB)) "$WORK/f0" >"$WORK/want"
    same "file 0, record 0 after mt seek (read with bs=1M)" "$WORK/want" "$WORK/out"

    step "mt eod; mt weof 2 (two empty files); one more file after them"
    mt_ok eod
    at "$POS" "$FILE"
    mt_ok weof 2
    START[FILE]=$POS START[FILE + 1]=$((POS + 1))
    POS=$((POS + 2)) FILE=$((FILE + 2))
    at "$POS" "$FILE" 0
    local empty1=$((FILE - 2)) after=$FILE
    write_file after 4096 3
    mt_ok rewind
    mt_ok fsf "$empty1"
    at "${START[empty1]}" "$empty1" 0
    rm -f "$WORK/out"
    run dd if="$NST" of="$WORK/out" bs=64k
    [[ $(stat -c %s "$WORK/out") == 0 ]] || fail "the empty file $empty1 read $(stat -c %s "$WORK/out") bytes"
    echo "file $empty1 is empty"
    at "${START[empty1 + 1]}" $((empty1 + 1)) 0
    mt_ok fsf 1
    at "${START[after]}" "$after" 0
    read_file after 64k "file $after (after two weof)"

    step "tar of a tree of a few MB to tape and back"
    tree=$WORK/tree
    rm -rf "$tree" "$WORK/untar"
    mkdir -p "$tree/a/b/c" "$tree/d" "$WORK/untar"
    for i in 1 2 3 4 5 6; do head -c $((i * 120 * KiB + i * 13)) /dev/urandom >"$tree/a/r$i.bin"; done
    head -c $((1000 * KiB)) /dev/urandom >"$tree/a/b/c/big.bin"
    seq 1 100000 >"$tree/d/numbers.txt"
    : >"$tree/d/empty"
    ln -s ../a/r1.bin "$tree/d/link"
    chmod 640 "$tree/a/r2.bin"
    du -sh "$tree"
    mt_ok eod
    local tar_start=$POS
    START[FILE]=$POS
    run tar -C "$tree" -b 128 -cf "$NST" .
    tar -C "$tree" -b 128 -cf "$WORK/ref.tar" .
    n=$(($(stat -c %s "$WORK/ref.tar") / (64 * KiB)))
    echo "the archive is $n records of 64 KiB"
    POS=$((POS + n + 1)) FILE=$((FILE + 1))
    at "$POS" "$FILE" 0
    mt_ok seek "$tar_start"
    tell_is "$tar_start"
    run tar -C "$WORK/untar" -b 128 -xpf "$NST"
    diff -r --no-dereference "$tree" "$WORK/untar" || fail "the tree read back from tape differs"
    (cd "$tree" && find . -type f -exec sha256sum {} + | sort) >"$WORK/sums.a"
    (cd "$WORK/untar" && find . -type f -exec sha256sum {} + | sort) >"$WORK/sums.b"
    cmp "$WORK/sums.a" "$WORK/sums.b" || fail "checksums differ after tar"
    [[ $(readlink "$WORK/untar/d/link") == ../a/r1.bin ]] || fail "the symlink did not come back"
    [[ $(stat -c %a "$WORK/untar/a/r2.bin") == 640 ]] || fail "the mode of a/r2.bin did not come back"
    echo "tar: $(wc -l <"$WORK/sums.a") files, byte-identical (sha256), symlink and mode kept"
}

# tape_fixed_suite BLOCKSIZE...: for each, mt setblk, one file of 2 MiB written with bs=1M
# (several blocks per command), read back with bs=1M and, when smaller, one block at a time.
tape_fixed_suite() {
    local bs n start
    for bs in "$@"; do
        step "fixed mode: mt setblk $bs"
        # st forgets the file number after a seek; a rewind first makes the eod's count exact.
        mt_ok rewind
        mt_ok eod
        at "$POS" "$FILE"
        mt_ok setblk "$bs"
        grep -q "Tape block size $bs bytes" <<<"$(mt -f "$NST" status)" || fail "mt setblk $bs not in mt status"
        n=$((2 * MiB / bs))
        head -c $((2 * MiB)) /dev/urandom >"$WORK/fixed$bs"
        start=$POS
        START[FILE]=$POS
        run dd if="$WORK/fixed$bs" of="$NST" bs=1M
        POS=$((POS + n + 1)) FILE=$((FILE + 1))
        at "$POS" "$FILE" 0
        mt_ok seek "$start"
        tell_is "$start"
        read_file "fixed$bs" 1M "fixed $bs: read with bs=1M"
        tell_is "$POS" # (st's file number is unknown after a seek)
        if ((bs < 1 * MiB)); then
            mt_ok seek $((start + n / 2))
            rm -f "$WORK/out"
            run dd if="$NST" of="$WORK/out" bs="$bs" count=1
            head -c $((MiB + bs)) "$WORK/fixed$bs" | tail -c "$bs" >"$WORK/want"
            same "fixed $bs: block $((n / 2)) after mt seek" "$WORK/want" "$WORK/out"
            tell_is $((start + n / 2 + 1))
        fi
    done
    mt_ok setblk 0
}

# tape_short_read_suite SG: records shorter than the read: through st without and with SILI (and
# a read smaller than the record, which st refuses), then READ(6) through sg_raw.
tape_short_read_suite() {
    local sg=$1 start k
    local -a sizes=(1000 3000 1000 70000 5000 5000 5000)
    step "short records: ${sizes[*]} bytes in one file"
    mt_ok rewind
    mt_ok eod
    at "$POS" "$FILE"
    mt_ok setblk 0
    start=$POS
    START[FILE]=$POS
    local -a names=()
    for ((k = 0; k < ${#sizes[@]}; k++)); do
        head -c "${sizes[k]}" /dev/urandom >"$WORK/s$k"
        names+=("$WORK/s$k")
    done
    /usr/bin/python3 - "$NST" "${names[@]}" <<'PY' || fail "writing the short records failed"
import os, sys
fd = os.open(sys.argv[1], os.O_WRONLY)
for name in sys.argv[2:]:
    data = open(name, "rb").read()
    n = os.write(fd, data)
    assert n == len(data), (name, n, len(data))
os.close(fd)
print(f"wrote {len(sys.argv) - 2} records")
PY
    ls -l "$WORK"/s[0-9] | awk '{print $5, $NF}' | tr '\n' ' '
    echo
    POS=$((POS + ${#sizes[@]} + 1)) FILE=$((FILE + 1))
    at "$POS" "$FILE" 0

    step "st without SILI: dd bs=64k count=1 reads the 1000 and 3000 byte records whole"
    mt_ok stclearoptions sili
    mt_ok seek "$start"
    for k in 0 1; do
        rm -f "$WORK/out"
        run dd if="$NST" of="$WORK/out" bs=64k count=1
        same "record $k (${sizes[k]} bytes) read with bs=64k, no SILI" "$WORK/s$k" "$WORK/out"
    done
    tell_is $((start + 2))

    step "st with SILI (mt stsetoptions sili): the next short records read whole"
    mt_ok stsetoptions sili
    for k in 2 3; do
        rm -f "$WORK/out"
        run dd if="$NST" of="$WORK/out" bs=128k count=1
        same "record $k (${sizes[k]} bytes) read with bs=128k, SILI" "$WORK/s$k" "$WORK/out"
    done
    tell_is $((start + 4))
    mt_ok stclearoptions sili

    step "a read smaller than the record (5000-byte record, bs=2048): st refuses it"
    local rc=0 out
    out=$(dd if="$NST" of="$WORK/out" bs=2048 count=1 2>&1) || rc=$?
    echo "\$ dd if=$NST bs=2048 count=1: exit $rc: $out"
    ((rc != 0)) || fail "dd read 2048 bytes of a 5000-byte record and succeeded"
    grep -qi 'cannot allocate memory' <<<"$out" || fail "st did not answer ENOMEM for a record longer than the read"

    step "READ(6) through sg_raw: SILI=0 then SILI=1 on the 5000-byte records"
    mt_ok seek $((start + 5))
    tell_is $((start + 5))
    sg_read6 "$sg" 0 8192
    ((${#SENSE[@]} >= 18)) || fail "READ(6) SILI=0 of a 5000-byte record with 8192: no sense (exit $SG_RC)"
    ((SG_RC == 20)) || fail "sg_raw exited $SG_RC, expected 20 (sg3_utils: CHECK CONDITION, NO SENSE key)"
    local info=$((16#${SENSE[3]} << 24 | 16#${SENSE[4]} << 16 | 16#${SENSE[5]} << 8 | 16#${SENSE[6]}))
    echo "sense: response 0x${SENSE[0]}, flags/key 0x${SENSE[2]}, INFORMATION $info, ASC/ASCQ ${SENSE[12]}/${SENSE[13]}"
    [[ ${SENSE[0],,} == f0 ]] || fail "sense response code 0x${SENSE[0]}, expected f0 (current, VALID)"
    [[ ${SENSE[2],,} == 20 ]] || fail "sense byte 2 is 0x${SENSE[2]}, expected 20 (ILI, NO SENSE)"
    ((info == 8192 - 5000)) || fail "INFORMATION (residual) $info, expected $((8192 - 5000))"
    [[ ${SENSE[12]}${SENSE[13]} == 0000 ]] || fail "ASC/ASCQ ${SENSE[12]}/${SENSE[13]}, expected 00/00"
    same "READ(6) SILI=0: the data" "$WORK/s5" "$WORK/sgout"
    sg_read6 "$sg" 1 8192
    ((SG_RC == 0)) || fail "READ(6) SILI=1 of a 5000-byte record with 8192: sg_raw exit $SG_RC"
    ((${#SENSE[@]} == 0)) || fail "READ(6) SILI=1 returned sense [${SENSE[*]}]"
    same "READ(6) SILI=1: the data" "$WORK/s6" "$WORK/sgout"
    # sg_raw moved the tape behind st's back: a rewind puts st and the drive in step again.
    mt_ok rewind
    at 0 0 0
}

# tape_finish CHANGER_SG: rewind, unload through mt offline, mtx unload 1 0.
tape_finish() {
    step "mt offline; mtx unload 1 0"
    mt_ok offline
    run mtx -f "$1" unload 1 0
    run mtx -f "$1" status
}

tape_setup_work() {
    rm -rf "$WORK"
    mkdir -p "$WORK"
    rm -rf "/tmp/vtl-state/$TAPE_LIB" # a library fresh from the config, whatever ran before
}

# ---- the test (when run, not when sourced)
if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
    T0=$SECONDS
    require_vtld_tcmu
    step "modules"
    load_lio_modules
    tape_setup_work

    step "start $VTLD --config ${TAPE_CONFIG#"$VTL_REPO"/}"
    start_vtld --config "$TAPE_CONFIG"
    trap '"$LIO" down --all -q 2>/dev/null || true; kill -TERM "$VTLD_PID" 2>/dev/null || true' EXIT

    step "scripts/lio up --config (tcm_loop)"
    expect "lio up" "$LIO" up --vtld "$VTLD" --config "$TAPE_CONFIG" --handler-wait 60
    lsscsi -g | tee "$TEST_OUT/lsscsi.txt"
    CSG=$(expect "changer sg node" "$LIO" dev "$TAPE_LIB/changer" sg)
    DSG=$(expect "drive0 sg node" "$LIO" dev "$TAPE_LIB/drive0" sg)
    NST=$(expect "drive0 nst node" "$LIO" dev "$TAPE_LIB/drive0" nst)
    echo "changer $CSG; drive0 $DSG $NST"

    step "mtx load 1 0; wait for the drive"
    load_cartridge "$CSG" "$DSG"

    tape_positioning_suite $((1 * MiB))
    tape_fixed_suite $((64 * KiB)) $((1 * MiB))
    tape_short_read_suite "$DSG"
    tape_finish "$CSG"

    step "scripts/lio down, SIGTERM vtld"
    expect "lio down" "$LIO" down
    trap - EXIT
    stop_vtld
    dmesg | grep -E ' st [0-9]+:|st[0-9]+:' | tail -n 20 || true
    echo "80-tape-loop passed in $((SECONDS - T0)) s"
fi
