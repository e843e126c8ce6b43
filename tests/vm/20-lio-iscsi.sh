#!/usr/bin/env bash
# scripts/lio's iSCSI wiring: an LIO ramdisk behind an iSCSI target on 127.0.0.1:3260 with CHAP;
# open-iscsi in the same guest is refused with a wrong secret, logs in with the right one, and
# data makes a byte-identical round trip in 1 and 8 MiB I/Os.
# shellcheck source=tests/vm/lib.bash
source "$(dirname "$0")/lib.bash"

LIB=iscsi1
USER=vtluser SECRET=vtl-secret-123
step "modules"
load_lio_modules iscsi_target_mod iscsi_tcp

before=$(lio_snapshot)
step "scripts/lio up --fabric iscsi --chap"
expect "lio up" "$LIO" up --devices $LIB/disk0 --backstore ramdisk:32 --fabric iscsi --chap "$USER:$SECRET"
expect "lio status" "$LIO" status
iqn=$(awk '$1 == "iscsi" {print $3}' /run/vtl-lio/$LIB.state)
iqn=$(basename "$iqn")

step "iscsid, discovery"
cleanup() {
    iscsiadm -m node -T "$iqn" -p 127.0.0.1 --logout >/dev/null 2>&1 || true
    stop_iscsid
    "$LIO" down --all -q 2>/dev/null || true
}
start_iscsid
trap cleanup EXIT
wait_for 30 "iscsid starts and discovery answers" iscsiadm -m discovery -t st -p 127.0.0.1
disc=$(expect "discovery" iscsiadm -m discovery -t st -p 127.0.0.1)
echo "$disc"
grep -q "127.0.0.1:3260,1 $iqn" <<<"$disc" || fail "discovery does not list $iqn"

node() { iscsiadm -m node -T "$iqn" -p 127.0.0.1 "$@"; }
set_auth() {
    node -o update -n node.session.auth.authmethod -v CHAP
    node -o update -n node.session.auth.username -v "$1"
    node -o update -n node.session.auth.password -v "$2"
}

step "login with a wrong secret is refused"
set_auth "$USER" wrong-secret-000
if node --login >"$TEST_OUT/bad-login.txt" 2>&1; then
    fail "login with a wrong CHAP secret succeeded"
fi
grep -i "auth" "$TEST_OUT/bad-login.txt" || cat "$TEST_OUT/bad-login.txt"

step "login with CHAP"
set_auth "$USER" "$SECRET"
expect "login" node --login
sd=""
find_disk() {
    sd=$(iscsiadm -m session -P3 2>/dev/null | sed -n 's/.*Attached scsi disk \(sd[a-z]*\).*/\1/p' | head -n1)
    [[ -n $sd && -b /dev/$sd ]]
}
wait_for 30 "the iSCSI LUN appears as a disk" find_disk
sd=/dev/$sd
lsscsi -t -g | tee "$TEST_OUT/lsscsi.txt"
grep -q "$iqn" "$TEST_OUT/lsscsi.txt" || fail "lsscsi -t does not show $iqn"
sg_inq "$sd" | grep -q "Vendor identification: LIO-ORG" || fail "sg_inq $sd: not the LIO ramdisk"

step "dd through $sd: 1 MiB and 8 MiB I/Os"
head -c $((24 << 20)) /dev/urandom >/tmp/pattern
dd if=/tmp/pattern of="$sd" bs=1M count=8 oflag=direct status=none || fail "dd 1 MiB to $sd"
dd if=/tmp/pattern of="$sd" bs=8M skip=1 seek=1 count=2 oflag=direct status=none || fail "dd 8 MiB to $sd"
dd if="$sd" of=/tmp/readback bs=8M count=3 iflag=direct status=none || fail "dd from $sd"
cmp /tmp/pattern /tmp/readback || fail "data read back over iSCSI differs"
echo "24 MiB round trip byte-identical"

step "logout, down"
expect "logout" node --logout
stop_iscsid
expect "lio down" "$LIO" down --devices $LIB/disk0
trap - EXIT
after=$(lio_snapshot)
if [[ $before != "$after" ]]; then
    diff <(echo "$before") <(echo "$after") || true
    fail "configfs differs after down"
fi
echo "configfs is as before"
