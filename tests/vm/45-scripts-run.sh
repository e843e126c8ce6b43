#!/usr/bin/env bash
# `scripts/run` on a machine with LIO (README command 1, the guest here): it loads the modules,
# starts vtld with the built-in library, exports it over tcm_loop and prints the device nodes
# and next commands; the nodes it prints answer `mtx status`; Ctrl-C (SIGINT to its process
# group, as a terminal sends it) removes the LIO objects, stops vtld (exit 0) and leaves no
# backstore or target behind. Also: with the modules unloadable it says "no LIO" and exits 3.
# shellcheck source=tests/vm/lib.bash
source "$(dirname "$0")/lib.bash"

require_vtld_tcmu
OUT=$TEST_OUT/run.out
STATE=/tmp/vtl-run-state

step "modules (configfs only: scripts/run loads the rest)"
modprobe configfs
mountpoint -q /sys/kernel/config || mount -t configfs configfs /sys/kernel/config
# vtl's LIO objects: backstores (each has an enable attribute) and tcm_loop targets.
lio_objects() {
    local x
    for x in /sys/kernel/config/target/core/*/*/enable /sys/kernel/config/target/loopback/*.*; do
        [[ -e $x ]] && echo "$x"
    done
    return 0
}
[[ -z $(lio_objects) ]] || fail "LIO objects exist before the test: $(lio_objects)"

step "scripts/run --no-setup --no-build --vtld $VTLD --state-dir $STATE"
# A job in a process group of its own, as in a terminal (with job control on, bash does not make
# the job ignore SIGINT, as it does for background commands of scripts).
set -m
"$VTL_REPO/scripts/run" --no-setup --no-build --vtld "$VTLD" --state-dir "$STATE" >"$OUT" 2>&1 </dev/null &
RUN=$!
set +m
trap 'kill -INT -- -"$RUN" 2>/dev/null || true; "$LIO" down --all -q 2>/dev/null || true; pkill -TERM -x vtld 2>/dev/null || true' EXIT
deadline=$((SECONDS + 120))
until grep -q '^Ctrl-C stops' "$OUT"; do
    kill -0 "$RUN" 2>/dev/null || { cat "$OUT"; fail "scripts/run exited before its banner"; }
    ((SECONDS < deadline)) || { cat "$OUT"; fail "no banner within 120 s"; }
    sleep 0.5
done
cat "$OUT"

step "the banner's nodes"
SG=$(awk '$1 == "lib0/changer" && $2 == "changer" {print $3}' "$OUT")
NST=$(awk '$1 == "lib0/drive0" && $2 == "tape" {print $4}' "$OUT")
[[ $SG == /dev/sg* && -c $SG ]] || fail "lib0/changer: no sg node in the banner (got '$SG')"
[[ $NST == /dev/nst* && -c $NST ]] || fail "lib0/drive0: no nst node in the banner (got '$NST')"
[[ $SG == "$("$LIO" dev lib0/changer sg)" ]] || fail "the banner's $SG is not lib0/changer's sg node"
[[ $NST == "$("$LIO" dev lib0/drive0 nst)" ]] || fail "the banner's $NST is not lib0/drive0's nst node"
grep -q "mtx -f $SG status" "$OUT" || fail "the banner does not suggest mtx -f $SG status"
grep -q "mt -f $NST status" "$OUT" || fail "the banner does not suggest mt -f $NST status"
n=$(grep -cE '^  lib0/drive[0-3] +tape +/dev/sg[0-9]+ +/dev/nst[0-9]+$' "$OUT")
((n == 4)) || fail "the banner lists $n drives with nodes, expected 4"
status=$(mtx -f "$SG" status)
grep -q 'Storage Changer .*:4 Drives, 54 Slots ( 4 Import/Export )' <<<"$status" || { echo "$status"; fail "mtx status"; }
grep -q 'Storage Element 40:Full :VolumeTag=VTL040L8' <<<"$status" || { echo "$status"; fail "mtx status: slot 40"; }
VTLD_PID=$(pgrep -x vtld) || fail "no vtld process"

step "Ctrl-C"
kill -INT -- -"$RUN"
rc=0
wait "$RUN" || rc=$?
trap - EXIT
tail -n 5 "$OUT"
((rc == 130)) || fail "scripts/run exited $rc after SIGINT, expected 130"
grep -q '^vtl: stopped: LIO objects removed, vtld exited 0$' "$OUT" || fail "no clean-stop line"
! kill -0 "$VTLD_PID" 2>/dev/null || fail "vtld ($VTLD_PID) still runs"
[[ -d /sys/kernel/config/target/core ]] || fail "LIO was never loaded: scripts/run did not load the modules"
[[ -z $(lio_objects) ]] || fail "LIO objects left behind: $(lio_objects)"
[[ ! -e $SG ]] || fail "$SG still exists"
grep -nE 'runtime error:|AddressSanitizer|LeakSanitizer' "$STATE/vtld.log" && fail "sanitizer reports in vtld's log"

step "no LIO: one sentence, exit 3"
# A kernel without modules, as scripts/run would see it: in a mount namespace with empty
# /sys/module and /sys/kernel (no configfs), and a modprobe that finds nothing.
fake=$(mktemp -d)
printf '#!/bin/sh\nexit 1\n' >"$fake/modprobe"
chmod +x "$fake/modprobe"
rc=0
out=$(unshare -m bash -c 'mount -t tmpfs none /sys/module && mount -t tmpfs none /sys/kernel &&
    PATH="$2:$PATH" exec "$0" --no-setup --no-build --vtld "$1"' "$VTL_REPO/scripts/run" "$VTLD" "$fake" 2>&1) || rc=$?
echo "$out"
((rc == 3)) || fail "without LIO scripts/run exited $rc, expected 3"
[[ $(wc -l <<<"$out") == 1 && $out == *"has no LIO"*"scripts/run --vm"* ]] || fail "not one sentence offering --vm: $out"
echo "scripts/run: banner, nodes, Ctrl-C teardown and the no-LIO message all as expected"
