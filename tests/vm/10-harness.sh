#!/usr/bin/env bash
# Harness smoke test: the guest kernel loads LIO and the SCSI upper drivers, scripts/lio exports
# an LIO ramdisk (rd_mcp) through tcm_loop with SAS and FC WWNs, the host side sees it, data
# makes a byte-identical round trip, and `down` leaves configfs exactly as it found it.
# shellcheck source=tests/vm/lib.bash
source "$(dirname "$0")/lib.bash"

step "modules"
load_lio_modules
for m in configfs target_core_mod target_core_user tcm_loop st ch sg; do
    [[ -d /sys/module/$m ]] || fail "module $m is not loaded"
done
echo "kernel $(uname -r); $(lsmod | wc -l) modules"

before=$(lio_snapshot)

step "scripts/lio up: ramdisk over tcm_loop (SAS)"
expect "lio up" "$LIO" up --devices smoke/disk0 --backstore ramdisk:16
expect "lio status" "$LIO" status
sg=$(expect "lio dev sg" "$LIO" dev smoke/disk0 sg)
sd=$(expect "lio dev sd" "$LIO" dev smoke/disk0 sd)
hctl=$(expect "lio dev hctl" "$LIO" dev smoke/disk0 hctl)
echo "smoke/disk0: $hctl $sd $sg"

step "lsscsi -g"
lsscsi -g | tee "$TEST_OUT/lsscsi.txt"
grep -E "^\[$hctl\] +disk +LIO-ORG +RAMDISK-MCP .* $sd +$sg *\$" "$TEST_OUT/lsscsi.txt" >/dev/null ||
    fail "lsscsi -g does not show the ramdisk at [$hctl] as $sd $sg"

step "sg_inq $sg"
inq=$(expect "sg_inq" sg_inq "$sg")
echo "$inq" | grep -E "Vendor identification: LIO-ORG|Product identification: RAMDISK-MCP"
grep -q "Vendor identification: LIO-ORG" <<<"$inq" || fail "sg_inq: wrong vendor"
wwn=$(basename "$(awk '$1 == "loop" {print $3}' /run/vtl-lio/smoke.state)")
vpd=$(expect "sg_vpd -p di" sg_vpd -p di "$sg")
grep -qi "${wwn#naa.}" <<<"$vpd" || { echo "$vpd"; fail "VPD 83h does not name target port $wwn"; }
echo "VPD 83h names the target port $wwn"

step "dd 8 MiB through $sd and back"
head -c $((8 << 20)) /dev/urandom >/tmp/pattern
dd if=/tmp/pattern of="$sd" bs=1M oflag=direct status=none || fail "dd to $sd"
dd if="$sd" of=/tmp/readback bs=1M count=8 iflag=direct status=none || fail "dd from $sd"
cmp /tmp/pattern /tmp/readback || fail "data read back from $sd differs"
echo "8 MiB round trip byte-identical"

step "a second library with FC WWNs, and up twice is refused"
expect "lio up fc" "$LIO" up --devices smokefc/disk0 --backstore ramdisk:4 --wwn fc
fcwwn=$(basename "$(awk '$1 == "loop" {print $3}' /run/vtl-lio/smokefc.state)")
[[ $fcwwn == fc.5001405* ]] || fail "FC target WWN is $fcwwn"
fcsg=$(expect "lio dev sg (fc)" "$LIO" dev smokefc/disk0 sg)
fcvpd=$(expect "sg_vpd -p di (fc)" sg_vpd -p di "$fcsg")
grep -qi "${fcwwn#fc.}" <<<"$fcvpd" || fail "VPD 83h of the FC LUN does not name $fcwwn"
grep -q "transport: Fibre Channel" <<<"$fcvpd" || fail "VPD 83h of the FC LUN: protocol is not FCP"
if "$LIO" up --devices smoke/disk0 --backstore ramdisk:16 2>"$TEST_OUT/twice.err"; then
    fail "a second 'up' of library smoke succeeded"
fi
grep -q "already up" "$TEST_OUT/twice.err" || fail "second up: unclear message: $(cat "$TEST_OUT/twice.err")"
[[ -f /run/vtl-lio/smoke.state ]] || fail "the refused 'up' removed smoke's state"

step "a TCMU backstore no handler opens is not exported, and up undoes itself"
if "$LIO" up --devices nohandler/drive0 --handler-wait 3 2>"$TEST_OUT/nohandler.err"; then
    fail "up without a handler succeeded"
fi
cat "$TEST_OUT/nohandler.err"
grep -q "no handler opened /dev/uio" "$TEST_OUT/nohandler.err" || fail "up without a handler: unclear message"
[[ ! -e /run/vtl-lio/nohandler.state ]] || fail "the failed up left its state file"
ls -d /sys/kernel/config/target/core/user_*/nohandler.drive0 2>/dev/null && fail "the failed up left its backstore"

step "scripts/lio down"
expect "lio down" "$LIO" down --devices smoke/disk0
[[ -e $sd || -e $sg ]] && sleep 1
lsscsi | grep -q "RAMDISK-MCP.*$sd" && fail "$sd still present after down"
expect "lio down --all" "$LIO" down --all
after=$(lio_snapshot)
if [[ $before != "$after" ]]; then
    diff <(echo "$before") <(echo "$after") || true
    fail "configfs differs after down"
fi
lsscsi | grep -q RAMDISK-MCP && fail "a ramdisk LUN is still attached"
echo "configfs is as before; no LUN left"
