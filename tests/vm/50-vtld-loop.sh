#!/usr/bin/env bash
# vtld through the kernel over tcm_loop: the built-in library lib0 appears to the host as one
# changer (ch binds) and four tape drives (st binds), INQUIRY returns vtld's identities, a drive
# without a cartridge is NOT READY / MEDIUM NOT PRESENT, and SIGTERM stops vtld cleanly.
# shellcheck source=tests/vm/lib.bash
source "$(dirname "$0")/lib.bash"

require_vtld_tcmu
step "modules"
load_lio_modules

step "start $VTLD"
start_vtld
trap '"$LIO" down --all -q 2>/dev/null || true; kill -TERM "$VTLD_PID" 2>/dev/null || true' EXIT

step "scripts/lio up (lib0 over tcm_loop)"
expect "lio up" "$LIO" up --vtld "$VTLD" --handler-wait 60
lsscsi -g | tee "$TEST_OUT/lsscsi.txt"
read_identities

step "backstore attributes"
for bs in /sys/kernel/config/target/core/user_*/lib0.*; do
    read -r timeout <"$bs/attrib/cmd_time_out"
    read -r tmr <"$bs/attrib/tmr_notification"
    info=$(<"$bs/info")
    echo "${bs##*/}: cmd_time_out=$timeout tmr_notification=$tmr $(grep -o 'Config: [^ ]*' <<<"$info")"
    [[ $timeout == 0 && $tmr == 1 ]] || fail "${bs##*/}: cmd_time_out=$timeout tmr_notification=$tmr, expected 0 and 1"
    grep -q "Config: vtl/lib0/${bs##*/lib0.} " <<<"$info" || fail "${bs##*/}: wrong dev_config: $info"
done

step "device types"
changers=$(grep -c ' mediumx ' "$TEST_OUT/lsscsi.txt" || true)
tapes=$(grep -c ' tape ' "$TEST_OUT/lsscsi.txt" || true)
((changers == 1 && tapes == 4)) || fail "lsscsi -g shows $changers changer(s) and $tapes tape(s), expected 1 and 4"
sch=$(expect "changer node" "$LIO" dev lib0/changer sch)
[[ -c $sch ]] || fail "the ch driver did not bind: no $sch"
for d in drive0 drive1 drive2 drive3; do
    nst=$(expect "$d node" "$LIO" dev lib0/$d nst)
    [[ -c $nst ]] || fail "st did not bind to $d: no $nst"
done
echo "changer at $sch; drives at /dev/nst*"

step "sg_inq on each device"
for d in changer drive0 drive1 drive2 drive3; do
    check_inquiry "$d" "$(expect "$d sg node" "$LIO" dev lib0/$d sg)"
done

step "sg_turs on an empty drive"
check_not_ready "$(expect "drive0 sg node" "$LIO" dev lib0/drive0 sg)"

step "scripts/lio down, SIGTERM vtld"
expect "lio down" "$LIO" down
lsscsi | grep -Eq ' (tape|mediumx) ' && fail "tape or changer devices remain after down"
trap - EXIT
stop_vtld
