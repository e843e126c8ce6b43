#!/usr/bin/env bash
# Amanda's amtapetype, unmodified (Debian's amanda-server), through the kernel's st driver over
# tcm_loop: a cartridge of 24 MiB loaded with mtx, the drive's compression on (its default).
# `amtapetype -p` writes three files and reads them back by number: it must find that no forward
# space is needed after a filemark (FSF_AFTER_FILEMARK false). Then amtapetype -f (-f: go on
# whatever its compression guess) times random against patterned data, writes to early warning
# once in one file and once in about 100 files, and prints a tapetype definition. A pass is exit
# 0 and a complete definition whose length is the cartridge's capacity up to early warning (the
# compression guess compares two speeds under TCG: printed, not asserted).
# Library: tests/vm/configs/clients.toml.
# shellcheck source=tests/vm/lib.bash
source "$(dirname "$0")/lib.bash"

CONFIG=$VTL_REPO/tests/vm/configs/clients.toml
LIB=clients
SLOT=4                    # AMT004L8
CAPACITY_KB=$((24 * 1024)) # its capacity in the config

T0=$SECONDS
require_vtld_tcmu
command -v amtapetype >/dev/null || fail "amtapetype is not installed (Debian package amanda-server; scripts/setup installs it)"
step "versions: $(dpkg-query -W -f='${Package} ${Version}  ' amanda-server amanda-common mt-st 2>/dev/null)"
step "modules"
load_lio_modules
rm -rf "/tmp/vtl-state/$LIB"

loop_library_up

step "mtx load $SLOT 0"
expect "mtx load" mtx -f "$CSG" load "$SLOT" 0
unit_ready "$DSG" 30
expect "mt status" mt -f "$NST" status

step "amtapetype -p tape:$NST (the device properties only)"
# Three files with a header each, read back by file number: after reading to a filemark, Linux st
# is past it, so no forward space is needed after a filemark.
out=$(amtapetype -p "tape:$NST" 2>"$TEST_OUT/amtapetype-p.err") || { cat "$TEST_OUT/amtapetype-p.err"; fail "amtapetype -p failed"; }
echo "$out"
[[ $out == 'device-property "FSF_AFTER_FILEMARK" "false"' ]] || fail "amtapetype -p: expected FSF_AFTER_FILEMARK false"

step "amtapetype tape:$NST"
t=$SECONDS rc=0
amtapetype -f -t vtl-lto8 "tape:$NST" >"$TEST_OUT/amtapetype.out" 2>"$TEST_OUT/amtapetype.err" || rc=$?
echo "amtapetype: exit $rc after $((SECONDS - t)) s"
echo "--- stderr:"
tr '\r' '\n' <"$TEST_OUT/amtapetype.err" | grep -v '^ *File [0-9]*, block [0-9]* *$' | grep -v '^ *$' || true
echo "--- stdout:"
cat "$TEST_OUT/amtapetype.out"
((rc == 0)) || fail "amtapetype exited $rc"
out=$(<"$TEST_OUT/amtapetype.out")
err=$(tr '\r' '\n' <"$TEST_OUT/amtapetype.err")

step "the tapetype definition"
# (FSF_AFTER_FILEMARK is printed only when it differs from the device's default: not here.)
grep -q FSF_AFTER_FILEMARK <<<"$out" && fail "amtapetype wants a FSF_AFTER_FILEMARK property"
# The verdict compares two speeds under TCG: printed, not asserted.
grep -x 'Compression: \(enabled\|disabled\)' <<<"$err" || fail "amtapetype printed no compression verdict"
grep -q '^Writing one file to fill the volume\.$' <<<"$err" || fail "amtapetype did not fill the volume"
grep -qE '^Writing smaller files \([0-9]+ bytes\) to determine filemark\.$' <<<"$err" || fail "amtapetype did not write the smaller files"
re=$'define tapetype vtl-lto8 \\{\n    comment "Created by amtapetype; compression (enabled|disabled)"\n    length ([0-9]+) kbytes\n    filemark ([0-9]+) kbytes\n    speed ([0-9]+) kps\n    blocksize 32 kbytes\n\\}'
[[ $out =~ $re ]] || fail "amtapetype's output holds no complete tapetype definition"
length=${BASH_REMATCH[2]} filemark=${BASH_REMATCH[3]} speed=${BASH_REMATCH[4]}
echo "length $length kbytes, filemark $filemark kbytes, speed $speed kps (capacity $CAPACITY_KB KiB)"
# Early warning is 2 % before the end: the one-file write stops there (LEOM) or at the end.
((length >= CAPACITY_KB * 95 / 100 && length <= CAPACITY_KB)) ||
    fail "length $length kbytes is not the cartridge's $CAPACITY_KB KiB (95..100 %)"
((speed > 0)) || fail "speed $speed"
grep -qE '^# (for this drive and kernel, LEOM is supported; add|LEOM is not supported for this drive and kernel)$' <<<"$out" ||
    fail "no LEOM verdict"
grep -E 'LEOM' <<<"$out"$'\n'"$err" || true

step "mtx unload; scripts/lio down, SIGTERM vtld"
expect "mtx unload" mtx -f "$CSG" unload "$SLOT" 0
expect "lio down" "$LIO" down
trap - EXIT
stop_vtld
echo "102-amanda passed in $((SECONDS - T0)) s"
