#!/usr/bin/env bash
# vtld over iSCSI: scripts/lio exports lib0 as one iSCSI target on 127.0.0.1:3260 (changer LUN 0,
# drives LUN 1-4); open-iscsi in the guest logs in and sees one changer and four tapes with
# vtld's identities; an empty drive is NOT READY; logout, down and SIGTERM leave nothing behind.
# shellcheck source=tests/vm/lib.bash
source "$(dirname "$0")/lib.bash"

require_vtld_tcmu
step "modules"
load_lio_modules iscsi_target_mod iscsi_tcp
before=$(lio_snapshot)

step "start $VTLD, scripts/lio up --fabric iscsi"
start_vtld
iscsi_library_up lib0
read_identities

step "iscsid, discovery, login"
iscsi_login "$iqn" 5

step "device types and identities by LUN"
names=(changer drive0 drive1 drive2 drive3)
for lun in 0 1 2 3 4; do
    line=$(grep -E "^\[[0-9]+:[0-9]+:[0-9]+:$lun\] .*$iqn" "$TEST_OUT/lsscsi.txt") || fail "no LUN $lun"
    type=$(awk '{print $2}' <<<"$line")
    want=$([[ $lun == 0 ]] && echo mediumx || echo tape)
    [[ $type == "$want" ]] || fail "LUN $lun is $type, expected $want"
    sg=$(grep -o '/dev/sg[0-9]*' <<<"$line")
    check_inquiry "${names[lun]}" "$sg"
    ((lun == 1)) && drive_sg=$sg
done

step "sg_turs on an empty drive"
check_not_ready "$drive_sg"

iscsi_library_down
configfs_as_before "$before"
