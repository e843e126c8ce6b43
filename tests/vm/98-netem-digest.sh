#!/usr/bin/env bash
# A corrupting network path under a long backup, over iSCSI on 127.0.0.1, without and with
# HeaderDigest/DataDigest CRC32C (negotiated, checked in iscsiadm and sysfs; LIO's TPG set to
# CRC32C only for the second login).
# The corruption that reaches iSCSI: an nftables output rule rewrites 4 bytes of every 32nd TCP
# segment to the portal whose payload bytes 192..207 are the source's 0xA5 fill (so bytes
# 200..203 are SCSI data, never a PDU header or digest) with DEADBEEF. Loopback segments are
# CHECKSUM_PARTIAL and the rule asks for no checksum fix-up, so TCP delivers the bytes as rewritten.
# (a) no digests: the writer sees every WRITE succeed, the read-back succeeds (the emulator's
#     per-record CRC32C is computed over the data as it arrived, so it matches), and the tape
#     differs from the source at exactly one DEADBEEF per rewritten segment, some inside
#     Data-Out PDUs. Then `tc netem corrupt` for contrast: netem corrupts after the checksum is
#     filled in, the receiving TCP/IP drops each such packet and TCP resends it: identical tape.
# (b) CRC32C: LIO rejects each rewritten Data-Out ("CRC32C DataDigest ... does not match
#     computed", ERL=0 so it closes the connection), the initiator reconnects, st fails that WRITE
#     with EIO (it retries nothing), the writer asks the drive its position (READ POSITION waits
#     for the new connection), writes the record again, and the tape reads back identical.
# Library: tests/vm/configs/iscsi-failures.toml; helpers from 96-iscsi-session.sh.
# shellcheck source=tests/vm/96-iscsi-session.sh
source "$(dirname "${BASH_SOURCE[0]}")/96-iscsi-session.sh"

RECORDS=32 # of REC (256 KiB): 8 MiB per phase
ONE_IN=32  # every 32nd eligible segment is rewritten
NETEM_CORRUPT=10%
NETEM_RECORDS=16

# fill_source FILE: RECORDS records; each 4 KiB is 8 random bytes and 4088 bytes of 0xA5.
fill_source() {
    /usr/bin/python3 -c 'import os, sys
sys.stdout.buffer.write(b"".join(os.urandom(8) + b"\xa5" * 4088 for _ in range(int(sys.argv[1]))))' \
        $((REC * RECORDS / 4096)) >"$1"
}

corrupt_on() {
    nft -f - <<EOF || fail "nft: cannot add the rewriting rule"
table inet vtl_corrupt {
    counter eligible { }
    counter rewritten { }
    chain out {
        type filter hook output priority 0; policy accept;
        tcp dport 3260 meta length > 1100 @ih,1536,64 0xa5a5a5a5a5a5a5a5 @ih,1600,64 0xa5a5a5a5a5a5a5a5 counter name "eligible" numgen inc mod $ONE_IN 0 counter name "rewritten" @ih,1600,32 set 0xdeadbeef
    }
}
EOF
}
# corrupt_off: removes the table; sets ELIGIBLE and REWRITTEN (packets).
corrupt_off() {
    local t
    t=$(nft list table inet vtl_corrupt) || fail "nft list table inet vtl_corrupt"
    nft delete table inet vtl_corrupt || fail "nft delete table inet vtl_corrupt"
    ELIGIBLE=$(awk '/counter eligible/ {getline; print $2}' <<<"$t")
    REWRITTEN=$(awk '/counter rewritten/ {getline; print $2}' <<<"$t")
    echo "nft: $ELIGIBLE segments eligible, $REWRITTEN rewritten"
}

# The writer: RECORDS records of FILE to the drive, one write() each, like a backup program. On
# EIO it asks the drive where it is (MTIOCPOS = READ POSITION) and goes on from that record.
WRITER='
import errno, fcntl, os, struct, sys
dev, src, rec = sys.argv[1], sys.argv[2], int(sys.argv[3])
def pos(fd):
    return struct.unpack("l", fcntl.ioctl(fd, 0x80086D03, b"\0" * 8))[0]  # MTIOCPOS
data = open(src, "rb").read()
n = len(data) // rec
fd = os.open(dev, os.O_WRONLY)
base = pos(fd)
i = again = 0
while i < n:
    try:
        if os.write(fd, data[i * rec:(i + 1) * rec]) != rec:
            sys.exit(f"record {i}: short write")
        i += 1
    except OSError as e:
        if e.errno != errno.EIO or again >= 20:
            raise
        p = pos(fd) - base
        print(f"record {i}: EIO; the drive is at record {p}", flush=True)
        if p != i:
            sys.exit(f"record {i} failed but the drive is at record {p}")
        again += 1
os.close(fd)
print(f"WROTE {n} EIO {again}")
'
# write_phase NAME FILE: the writer; sets WROTE and EIOS.
write_phase() {
    local out rc=0 t0=$SECONDS
    out=$(/usr/bin/python3 -c "$WRITER" "$NST" "$2" "$REC" 2>&1) || rc=$?
    echo "$out"
    ((rc == 0)) || fail "$1: the writer failed (exit $rc)"
    [[ $out =~ WROTE\ ([0-9]+)\ EIO\ ([0-9]+) ]] || fail "$1: the writer printed no summary"
    WROTE=${BASH_REMATCH[1]} EIOS=${BASH_REMATCH[2]}
    echo "$1: $WROTE records in $((SECONDS - t0)) s, $EIOS failed with EIO and were written again"
}

# Differences between the source and what came back: runs of differing bytes.
ANALYSE='
import sys
a, b, rec, burst = open(sys.argv[1], "rb").read(), open(sys.argv[2], "rb").read(), int(sys.argv[3]), int(sys.argv[4])
runs = []
for c in range(0, min(len(a), len(b)), 65536):
    if a[c:c + 65536] == b[c:c + 65536]:
        continue
    for i in range(c, min(c + 65536, len(a), len(b))):
        if a[i] != b[i]:
            if runs and runs[-1][0] + runs[-1][1] == i:
                runs[-1][1] += 1
            else:
                runs.append([i, 1])
odd = [r for r in runs if r[1] != 4 or b[r[0]:r[0] + 4] != bytes.fromhex("deadbeef") or a[r[0]:r[0] + 4] != b"\xa5" * 4]
dataout = [r for r in runs if r[0] % rec >= burst]
for r in runs:
    print(f"  record {r[0] // rec} offset {r[0] % rec}: {a[r[0]:r[0] + r[1]].hex()} -> {b[r[0]:r[0] + r[1]].hex()}")
print(f"SIZES {len(a)} {len(b)} RUNS {len(runs)} ODD {len(odd)} DATAOUT {len(dataout)}")
'

# read_back NAME FILE: the next tape file into $WORK/out (must read without error); sha256 of both.
read_back() {
    rm -f "$WORK/out"
    run dd if="$NST" of="$WORK/out" bs=$((2 * REC))
    SRC_SUM=$(sha256sum <"$2") TAPE_SUM=$(sha256sum <"$WORK/out")
    echo "$1: sha256 source ${SRC_SUM%% *}, tape ${TAPE_SUM%% *}"
}

# digests_are NAME: the connection's negotiated header and data digests are NAME (None or CRC32C),
# as iscsiadm reports them and as iscsi_tcp's sysfs flags (0 or 1) say.
digests_are() {
    local c h d p flag=0
    [[ $1 == CRC32C ]] && flag=1
    for c in /sys/class/iscsi_connection/connection"${SESS##*session}":*; do
        h=$(<"$c/header_digest") d=$(<"$c/data_digest")
    done
    p=$(iscsiadm -m session -r "${SESS##*session}" -P 2 | grep -E 'HeaderDigest|DataDigest' | tr -s ' \t\n' ' ')
    echo "negotiated:$p; sysfs header_digest $h, data_digest $d"
    [[ $h == "$flag" && $d == "$flag" && $p == *"HeaderDigest: $1 "*"DataDigest: $1"* ]] ||
        fail "digests are not $1"
}
# first_burst: the negotiated FirstBurstLength (the unsolicited data sent with each WRITE
# command; the rest of a record travels in Data-Out PDUs).
first_burst() {
    FIRST_BURST=$(iscsiadm -m session -r "${SESS##*session}" -P 2 | awk '$1 == "FirstBurstLength:" {print $2}')
    [[ $FIRST_BURST =~ ^[0-9]+$ ]] || fail "no FirstBurstLength in iscsiadm -m session -P 2"
}

# The kernel's IP/TCP counters that say what happened to netem's corrupted packets.
COUNTERS=(IpInHdrErrors TcpInCsumErrors TcpRetransSegs)
declare -A C0=() C1=() D=()
snap() {
    local -n into=$1
    local k v
    # shellcheck disable=SC2034,SC2004  # a nameref to an associative array
    while read -r k v _; do into[$k]=$v; done < <(nstat -asz "${COUNTERS[@]}" 2>/dev/null | grep -v '^#')
}
# dmesg_since N: the kernel log after its first N lines.
dmesg_since() { dmesg | tail -n +$(($1 + 1)); }

# ---- the test
if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
    T0=$SECONDS
    require_vtld_tcmu
    ifail_up
    trap '{ nft delete table inet vtl_corrupt 2>/dev/null || true; }; ifail_cleanup' EXIT
    modprobe nf_tables || fail "modprobe nf_tables"
    modprobe sch_netem || fail "modprobe sch_netem"
    TPG=/sys/kernel/config/target/iscsi/$IQN/tpgt_1

    step "(a) no digests: DEADBEEF in the payload of every ${ONE_IN}th eligible segment"
    ifail_login node.conn[0].iscsi.HeaderDigest=None node.conn[0].iscsi.DataDigest=None
    digests_are None
    first_burst
    load_cartridge "$CSG" "$DSG"
    mt_ok setblk 0
    fill_source "$WORK/a"
    corrupt_on
    write_phase "no digests" "$WORK/a"
    corrupt_off
    ((EIOS == 0 && WROTE == RECORDS)) || fail "no digests: $EIOS WRITEs failed; every one must succeed"
    ((REWRITTEN >= 2)) || fail "no digests: the rule rewrote $REWRITTEN segments, expected at least 2"
    mt_ok rewind
    read_back "no digests" "$WORK/a"
    [[ $SRC_SUM != "$TAPE_SUM" ]] || fail "no digests: the tape equals the source after $REWRITTEN rewritten segments"
    out=$(/usr/bin/python3 -c "$ANALYSE" "$WORK/a" "$WORK/out" "$REC" "$FIRST_BURST") || fail "analysis failed"
    echo "$out"
    [[ $out =~ SIZES\ ([0-9]+)\ ([0-9]+)\ RUNS\ ([0-9]+)\ ODD\ ([0-9]+)\ DATAOUT\ ([0-9]+) ]] || fail "analysis: no summary"
    ((BASH_REMATCH[1] == BASH_REMATCH[2])) || fail "no digests: the tape holds ${BASH_REMATCH[2]} bytes, the source ${BASH_REMATCH[1]}"
    ((BASH_REMATCH[3] == REWRITTEN)) || fail "no digests: ${BASH_REMATCH[3]} corrupted places on tape, $REWRITTEN segments rewritten"
    ((BASH_REMATCH[4] == 0)) || fail "no digests: ${BASH_REMATCH[4]} differences are not one A5A5A5A5 -> DEADBEEF"
    ((BASH_REMATCH[5] >= 1)) || fail "no digests: no rewritten bytes beyond the first $FIRST_BURST bytes of a record (Data-Out)"
    ! grep -n 'CRC mismatch' "$TEST_OUT/vtld.log" || fail "vtld logged a CRC mismatch"
    echo "no digests: silent: $REWRITTEN places of 4 bytes differ (${BASH_REMATCH[5]} inside Data-Out PDUs), every WRITE and READ succeeded, no CRC complaint"

    step "(a') tc netem corrupt $NETEM_CORRUPT: TCP drops and resends, the tape is identical"
    mt_ok eod
    head -c $((REC * NETEM_RECORDS)) /dev/urandom >"$WORK/n"
    snap C0
    run tc qdisc add dev lo root netem corrupt "$NETEM_CORRUPT"
    write_phase "netem" "$WORK/n"
    echo "netem: $(tc -s qdisc show dev lo | tr -s '\n ' ' ')"
    run tc qdisc del dev lo root
    snap C1
    ((EIOS == 0)) || fail "netem: $EIOS WRITEs failed"
    for k in "${COUNTERS[@]}"; do D[$k]=$((${C1[$k]:-0} - ${C0[$k]:-0})); done
    echo "netem: IpInHdrErrors +${D[IpInHdrErrors]}, TcpInCsumErrors +${D[TcpInCsumErrors]}, TcpRetransSegs +${D[TcpRetransSegs]}"
    ((D[IpInHdrErrors] + D[TcpInCsumErrors] > 0)) || fail "netem: no bad IP header or TCP checksum counted"
    ((D[TcpRetransSegs] > 0)) || fail "netem: no TCP retransmission"
    mt_ok rewind
    mt_ok fsf 1
    read_back "netem" "$WORK/n"
    same "netem" "$WORK/n" "$WORK/out"
    mt_ok offline
    run mtx -f "$CSG" unload 1 0
    expect "logout" iscsiadm -m node -T "$IQN" -p 127.0.0.1 --logout

    step "(b) HeaderDigest and DataDigest CRC32C, the same rewriting"
    for p in HeaderDigest DataDigest; do
        echo CRC32C >"$TPG/param/$p" || fail "cannot set LIO's $p"
        [[ $(<"$TPG/param/$p") == CRC32C ]] || fail "LIO's $p is $(<"$TPG/param/$p")"
    done
    echo "LIO TPG: HeaderDigest $(<"$TPG/param/HeaderDigest"), DataDigest $(<"$TPG/param/DataDigest")"
    ifail_login node.conn[0].iscsi.HeaderDigest=CRC32C node.conn[0].iscsi.DataDigest=CRC32C
    digests_are CRC32C
    load_cartridge "$CSG" "$DSG"
    mt_ok setblk 0
    mt_ok eod
    fill_source "$WORK/b"
    K0=$(dmesg | wc -l)
    R0=$(grep -c 'operational after recovery' "$TEST_OUT/iscsid.log" || true)
    corrupt_on
    write_phase "CRC32C" "$WORK/b"
    corrupt_off
    klog=$(dmesg_since "$K0")
    # LIO checks the immediate data of a WRITE command and its Data-Out PDUs apart, with two messages.
    imm=$(grep -c 'ImmediateData CRC32C DataDigest 0x[0-9a-f]* does not match computed 0x' <<<"$klog" || true)
    dout=$(grep -c 'ITT: 0x[0-9a-f]*, .* CRC32C DataDigest 0x[0-9a-f]* does not match computed 0x' <<<"$klog" || true)
    closed=$(grep -c 'Unable to recover from DataOUT CRC failure while ERL=0, closing session' <<<"$klog" || true)
    conn=$(grep -cE 'connection[0-9]+:[0-9]+: detected conn error \(1020\)' <<<"$klog" || true)
    recovered=$(($(grep -c 'operational after recovery' "$TEST_OUT/iscsid.log" || true) - R0))
    grep -E 'DataDigest|DataOUT CRC|conn error|st[0-9]*\] Error' <<<"$klog" | head -n 8
    echo "CRC32C: $REWRITTEN segments rewritten; LIO: $imm immediate-data and $dout Data-Out digest mismatches, $closed 'closing session'; initiator: $conn conn errors, $recovered reconnects; $EIOS WRITEs failed"
    ((REWRITTEN >= 2)) || fail "CRC32C: the rule rewrote $REWRITTEN segments, expected at least 2"
    ((dout == closed)) || fail "CRC32C: $dout Data-Out digest errors but $closed connections closed for them"
    ((imm + dout == REWRITTEN && conn == REWRITTEN && recovered == REWRITTEN && EIOS == REWRITTEN)) ||
        fail "CRC32C: every rewritten segment must cost one digest error, one reconnect and one failed WRITE"
    [[ $(session_state) == LOGGED_IN ]] || fail "CRC32C: the session is $(session_state)"
    stats=$(iscsiadm -m session -r "${SESS##*session}" -s) || fail "iscsiadm -m session -s"
    echo "initiator: $(grep -E 'digest_err|timeout_err' <<<"$stats" | tr -s ' \n' ' ') (nothing corrupted on the way back)"
    mt_ok rewind
    mt_ok fsf 2
    read_back "CRC32C" "$WORK/b"
    same "CRC32C" "$WORK/b" "$WORK/out"
    tape_finish "$CSG"
    ifail_down
    echo "98-netem-digest passed in $((SECONDS - T0)) s"
fi
