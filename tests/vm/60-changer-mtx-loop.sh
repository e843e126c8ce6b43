#!/usr/bin/env bash
# The medium changer through the kernel over tcm_loop, driven the way hosts drive it: the ch
# driver binds (/dev/schN, /sys/class/scsi_changer) and counts the elements right (CHIOGPARAMS);
# mtx on /dev/sgN (mtx never uses /dev/sch) shows the configured inventory with and without
# barcodes and with altres; load, unload, transfer, exchange (swap and three-way), inventory and a
# CHIOMOVE change exactly the elements they name; a drive loaded by the robot becomes ready;
# refused moves end with the exact sense (05/3B/0E, 05/3B/0D, 05/21/01; ch's EBADE and EXFULL) and
# leave the inventory as it was. Library: tests/vm/configs/changer.toml.
# shellcheck source=tests/vm/lib.bash
source "$(dirname "$0")/lib.bash"

CONFIG=$VTL_REPO/tests/vm/configs/changer.toml
require_vtld_tcmu
step "modules"
load_lio_modules
library_layout "$CONFIG"
rm -rf "/tmp/vtl-state/$LIB_NAME"   # a library fresh from the config, whatever ran before

step "start $VTLD --config ${CONFIG#"$VTL_REPO"/}"
start_vtld --config "$CONFIG"
trap '"$LIO" down --all -q 2>/dev/null || true; kill -TERM "$VTLD_PID" 2>/dev/null || true' EXIT

step "scripts/lio up --config (tcm_loop)"
expect "lio up" "$LIO" up --vtld "$VTLD" --config "$CONFIG" --handler-wait 60
lsscsi -g | tee "$TEST_OUT/lsscsi.txt"
sg=$(expect "changer sg node" "$LIO" dev "$LIB_NAME/changer" sg)
sch=$(expect "changer sch node" "$LIO" dev "$LIB_NAME/changer" sch)
dsg=$(expect "drive0 sg node" "$LIO" dev "$LIB_NAME/drive0" sg)
echo "changer: $sg $sch; drive0: $dsg"
[[ $(grep -c ' mediumx ' "$TEST_OUT/lsscsi.txt") == 1 ]] || fail "lsscsi -g does not show exactly one changer"
# The only changer on this host: ch names it sch0.
[[ $sch == /dev/sch0 && -c /dev/sch0 ]] || fail "the changer's ch node is '$sch', expected /dev/sch0"

changer_mtx_suite "$sg" "$sch" "$dsg"

step "scripts/lio down, SIGTERM vtld"
expect "lio down" "$LIO" down
[[ -e $sch ]] && fail "$sch still exists after down"
trap - EXIT
stop_vtld
