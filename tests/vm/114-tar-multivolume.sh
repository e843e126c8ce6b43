#!/usr/bin/env bash
# Multi-volume writers through st over tcm_loop, with 8 MiB cartridges that fill within seconds:
# - GNU tar -M writes a 12 MiB tree across two cartridges; its --info-script (-F) takes the
#   full one out with mt offline + mtx unload and puts the next in with mtx load. tar -M reads
#   the archive back the same way, and every file comes back byte-exact.
# - mbuffer to a drive: without --tapeaware it stops at the first ENOSPC (st's report of early
#   warning) and, with -A /bin/false as its autoloader, ends with an error, the tape holding a
#   prefix of the stream up to early warning; with --tapeaware it writes on past early warning
#   to the end of the partition (two ENOSPC in a row), its -A command changes cartridges with
#   mtx, and the two tapes hold the stream byte-exact, the first more of it than without.
# Library: tests/vm/configs/clients-sg.toml (6 cartridges of 8 MiB).
# shellcheck source=tests/vm/lib.bash
source "$(dirname "$0")/lib.bash"

CONFIG=$VTL_REPO/tests/vm/configs/clients-sg.toml
WORK=/tmp/tar-mv
KiB=1024 MiB=$((1024 * 1024))
CAPACITY=$((8 * MiB)) # clients-sg.toml: capacity = "8MiB"
T0=$SECONDS

run() {
    local out rc=0
    out=$("$@" 2>&1) || rc=$?
    echo "\$ $*${out:+$'\n'$out}"
    ((rc == 0)) || fail "'$*' exited $rc"
}
# same WHAT A B: byte-identical files.
same() {
    cmp "$2" "$3" || fail "$1: $3 ($(stat -c %s "$3") bytes) differs from $2 ($(stat -c %s "$2") bytes)"
    echo "$1: $(stat -c %s "$3") bytes, identical"
}
# tape_dump SLOT FILE: load SLOT into drive0, read all of its first tape file with dd into FILE,
# then put the cartridge back.
tape_dump() {
    run mtx -f "$CSG" load "$1" 0
    unit_ready "$DSG" 30
    rm -f "$2"
    run mt -f "$NST" rewind
    run dd if="$NST" of="$2" bs=1M
    run mt -f "$NST" offline
    run mtx -f "$CSG" unload "$1" 0
}

require_vtld_tcmu
step "modules"
load_lio_modules
library_layout "$CONFIG"
rm -rf "/tmp/vtl-state/$LIB_NAME" "$WORK"
mkdir -p "$WORK"

step "start $VTLD --config ${CONFIG#"$VTL_REPO"/}"
start_vtld --config "$CONFIG"
trap '"$LIO" down --all -q 2>/dev/null || true; kill -TERM "$VTLD_PID" 2>/dev/null || true' EXIT
expect "lio up" "$LIO" up --vtld "$VTLD" --config "$CONFIG" --handler-wait 60
lsscsi -g | tee "$TEST_OUT/lsscsi.txt"
CSG=$(expect "changer sg" "$LIO" dev "$LIB_NAME/changer" sg)
DSG=$(expect "drive0 sg" "$LIO" dev "$LIB_NAME/drive0" sg)
NST=$(expect "drive0 nst" "$LIO" dev "$LIB_NAME/drive0" nst)
unit_ready "$CSG"
export CSG DSG NST WORK

# The volume changer of tar -F and mbuffer -A: the cartridge from slot $(<$WORK/slot) goes back
# (mt offline, mtx unload), the next slot's comes in (mtx load), and the drive becomes ready.
cat >"$WORK/change" <<'SH'
#!/bin/bash
set -eu
cur=$(<"$WORK/slot") next=$(($(<"$WORK/slot") + 1))
echo "change: slot $cur -> $next (TAR_VOLUME=${TAR_VOLUME:-} TAR_SUBCOMMAND=${TAR_SUBCOMMAND:-})" >>"$WORK/changes"
mt -f "$NST" offline
mtx -f "$CSG" unload "$cur" 0
mtx -f "$CSG" load "$next" 0
for _ in $(seq 150); do sg_turs "$DSG" >/dev/null 2>&1 && break; sleep 0.2; done
sg_turs "$DSG"
echo "$next" >"$WORK/slot"
SH
chmod +x "$WORK/change"

step "a tree of 12 MiB of random data (one file larger than a cartridge)"
SRC=$WORK/src
mkdir -p "$SRC/a/b" "$SRC/c"
head -c $((3 * MiB + 517)) /dev/urandom >"$SRC/a/one.bin"
head -c $((9 * MiB - 4099)) /dev/urandom >"$SRC/a/b/big.bin"
head -c $((123 * KiB)) /dev/urandom >"$SRC/c/small.bin"
seq 1 20000 >"$SRC/c/numbers.txt"
: >"$SRC/c/empty"
ln -s ../a/one.bin "$SRC/c/link"
du -sb "$SRC"

step "tar -M -c to CLI001L8, the info script changes to CLI002L8"
run mtx -f "$CSG" load 1 0
unit_ready "$DSG" 30
echo 1 >"$WORK/slot"
: >"$WORK/changes"
run tar -C "$SRC" -b 128 -M -F "$WORK/change" -cf "$NST" .
cat "$WORK/changes"
[[ $(wc -l <"$WORK/changes") == 1 && $(<"$WORK/slot") == 2 ]] ||
    fail "tar -M changed volumes $(wc -l <"$WORK/changes") time(s), ends on slot $(<"$WORK/slot"); expected once, slot 2"
grep -q 'TAR_VOLUME=2' "$WORK/changes" || fail "tar did not ask for volume 2"
run mt -f "$NST" offline
run mtx -f "$CSG" unload 2 0

step "what each cartridge holds: volume 1 is full up to early warning"
tape_dump 1 "$WORK/vol1"
tape_dump 2 "$WORK/vol2"
v1=$(stat -c %s "$WORK/vol1") v2=$(stat -c %s "$WORK/vol2")
echo "volume 1: $v1 bytes, volume 2: $v2 bytes (cartridge capacity $CAPACITY)"
((v1 > CAPACITY * 9 / 10 && v1 <= CAPACITY)) || fail "volume 1 holds $v1 bytes: not a full cartridge of $CAPACITY"
((v1 % (64 * KiB) == 0 && v2 % (64 * KiB) == 0)) || fail "the volumes are not whole 64 KiB records"
((v1 + v2 >= $(du -sb "$SRC" | cut -f1))) || fail "the two volumes hold less than the tree"

step "tar -M -x from CLI001L8, the info script changes to CLI002L8; byte-exact"
run mtx -f "$CSG" load 1 0
unit_ready "$DSG" 30
echo 1 >"$WORK/slot"
: >"$WORK/changes"
mkdir -p "$WORK/out"
run tar -C "$WORK/out" -b 128 -M -F "$WORK/change" -xpf "$NST"
cat "$WORK/changes"
[[ $(wc -l <"$WORK/changes") == 1 && $(<"$WORK/slot") == 2 ]] || fail "tar -M -x changed volumes $(wc -l <"$WORK/changes") time(s)"
diff -r --no-dereference "$SRC" "$WORK/out" || fail "the tree read back differs"
(cd "$SRC" && find . -type f -exec sha256sum {} + | sort) >"$WORK/sums.a"
(cd "$WORK/out" && find . -type f -exec sha256sum {} + | sort) >"$WORK/sums.b"
cmp "$WORK/sums.a" "$WORK/sums.b" || fail "checksums differ"
[[ $(readlink "$WORK/out/c/link") == ../a/one.bin ]] || fail "the symlink did not come back"
echo "tar -M: $(wc -l <"$WORK/sums.a") files byte-exact across two cartridges"
run mt -f "$NST" offline
run mtx -f "$CSG" unload 2 0
rm -rf "$WORK/out" "$WORK/vol1" "$WORK/vol2"

# mbuffer reads the stream on stdin: it refuses an autoloader (-A) when both -i and -o name files.
# Records of 40 KiB: early warning comes 2 % (164 KiB) before the end of the 8 MiB partition, so
# --tapeaware has room for a few more records after it. (With 256 KiB records, early warning is
# smaller than one record: the 32nd would reach into the 16 KiB the drive keeps for filemarks and
# gets VOLUME OVERFLOW, and the filemark st writes at close() still fits.)
STREAM=$WORK/stream
head -c $((12 * MiB)) /dev/urandom >"$STREAM"

step "mbuffer without --tapeaware to CLI003L8: stops at early warning; -A /bin/false ends it"
run mtx -f "$CSG" load 3 0
unit_ready "$DSG" 30
rc=0
mbuffer -o "$NST" -f -s 40k -m 2M -A /bin/false <"$STREAM" >"$WORK/mb1.log" 2>&1 || rc=$?
cat "$WORK/mb1.log"
((rc != 0)) || fail "mbuffer reached the end of the tape with a failing autoloader and exited 0"
run mt -f "$NST" offline
run mtx -f "$CSG" unload 3 0
tape_dump 3 "$WORK/mb-a"
a=$(stat -c %s "$WORK/mb-a")
head -c "$a" "$STREAM" >"$WORK/want"
same "mbuffer, no --tapeaware: the tape holds the stream's first bytes" "$WORK/want" "$WORK/mb-a"
((a > CAPACITY * 9 / 10 && a < CAPACITY)) || fail "mbuffer wrote $a bytes before early warning"

step "mbuffer --tapeaware to CLI004L8, its -A command changes to CLI005L8: byte-exact"
run mtx -f "$CSG" load 4 0
unit_ready "$DSG" 30
echo 4 >"$WORK/slot"
: >"$WORK/changes"
rc=0
mbuffer -o "$NST" -f -s 40k -m 2M --tapeaware -A "$WORK/change" <"$STREAM" >"$WORK/mb2.log" 2>&1 || rc=$?
cat "$WORK/mb2.log" "$WORK/changes"
((rc == 0)) || fail "mbuffer --tapeaware exited $rc"
[[ $(wc -l <"$WORK/changes") == 1 && $(<"$WORK/slot") == 5 ]] || fail "mbuffer changed volumes $(wc -l <"$WORK/changes") time(s)"
run mt -f "$NST" offline
run mtx -f "$CSG" unload 5 0
tape_dump 4 "$WORK/mb-b1"
tape_dump 5 "$WORK/mb-b2"
b1=$(stat -c %s "$WORK/mb-b1") b2=$(stat -c %s "$WORK/mb-b2")
echo "--tapeaware: $b1 bytes on the first tape (without: $a), $b2 on the second"
((b1 > a && b1 <= CAPACITY)) || fail "--tapeaware wrote $b1 bytes to the first tape, not more than $a and at most $CAPACITY"
cat "$WORK/mb-b1" "$WORK/mb-b2" >"$WORK/mb-b"
same "mbuffer --tapeaware: the two tapes hold the stream" "$STREAM" "$WORK/mb-b"

step "scripts/lio down, SIGTERM vtld"
expect "lio down" "$LIO" down
trap - EXIT
stop_vtld
echo "114-tar-multivolume passed in $((SECONDS - T0)) s"
