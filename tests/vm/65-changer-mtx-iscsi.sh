#!/usr/bin/env bash
# The changer tests of 60-changer-mtx-loop over iSCSI: scripts/lio exports the library of
# tests/vm/configs/changer.toml as one iSCSI target on 127.0.0.1:3260 (changer LUN 0, drives
# LUN 1-2), open-iscsi in the guest logs in, the ch driver binds to LUN 0, and the same mtx, ch
# and sg_raw sequence (changer_mtx_suite) must give the same results. Logout, down and SIGTERM
# leave configfs as it was.
# shellcheck source=tests/vm/lib.bash
source "$(dirname "$0")/lib.bash"

CONFIG=$VTL_REPO/tests/vm/configs/changer.toml
require_vtld_tcmu
step "modules"
load_lio_modules iscsi_target_mod iscsi_tcp
library_layout "$CONFIG"
rm -rf "/tmp/vtl-state/$LIB_NAME"   # a library fresh from the config, whatever ran before
before=$(lio_snapshot)

step "start $VTLD --config ${CONFIG#"$VTL_REPO"/}, scripts/lio up --fabric iscsi"
start_vtld --config "$CONFIG"
iscsi_library_up "$LIB_NAME" --config "$CONFIG"

step "iscsid, discovery, login"
iscsi_login "$iqn" $((1 + N_DRIVES))
# ch attaches asynchronously after the scan (its probe reads the element map and runs
# INITIALIZE ELEMENT STATUS): wait for its node too.
changer_line() { grep -E "^\[[0-9]+:[0-9]+:[0-9]+:0\] +mediumx .*$iqn.*/dev/sch[0-9]+ .*/dev/sg[0-9]+" < <(lsscsi -t -g); }
wait_for 60 "the ch driver binds LUN 0" changer_line
lsscsi -t -g | tee "$TEST_OUT/lsscsi.txt"
line=$(changer_line)
sg=$(grep -o '/dev/sg[0-9]*' <<<"$line")
sch=$(grep -o '/dev/sch[0-9]*' <<<"$line")
line=$(grep -E "^\[[0-9]+:[0-9]+:[0-9]+:1\] +tape .*$iqn" "$TEST_OUT/lsscsi.txt") || fail "LUN 1 is not a tape drive"
dsg=$(grep -o '/dev/sg[0-9]*' <<<"$line")
echo "changer (LUN 0): $sg $sch; drive0 (LUN 1): $dsg"

changer_mtx_suite "$sg" "$sch" "$dsg"

iscsi_library_down
configfs_as_before "$before"
