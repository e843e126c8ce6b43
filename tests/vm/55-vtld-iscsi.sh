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
iqn=""
cleanup() {
    [[ -n $iqn ]] && iscsiadm -m node -T "$iqn" -p 127.0.0.1 --logout >/dev/null 2>&1
    stop_iscsid
    "$LIO" down --all -q 2>/dev/null || true
    kill -TERM "$VTLD_PID" 2>/dev/null || true
}
trap cleanup EXIT
expect "lio up" "$LIO" up --vtld "$VTLD" --fabric iscsi --handler-wait 60
iqn=$(awk '$1 == "iscsi" {print $3}' /run/vtl-lio/lib0.state)
iqn=${iqn##*/}
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

step "logout, down, SIGTERM vtld"
expect "logout" iscsiadm -m node -T "$iqn" -p 127.0.0.1 --logout
stop_iscsid
expect "lio down" "$LIO" down
trap - EXIT
stop_vtld
after=$(lio_snapshot)
if [[ $before != "$after" ]]; then
    diff <(echo "$before") <(echo "$after") || true
    fail "configfs differs after down"
fi
echo "configfs is as before"
