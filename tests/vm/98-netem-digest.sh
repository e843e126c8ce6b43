#!/usr/bin/env bash
# A corrupting network path under a long backup: `tc qdisc add dev lo root netem corrupt` while
# tar streams a tree to the drive over iSCSI on 127.0.0.1, (a) without digests and (b) with
# HeaderDigest and DataDigest CRC32C negotiated (checked in sysfs). netem flips one bit in the
# linear part of a packet after computing its checksum in software, so the receiving TCP sees a
# bad checksum (or IP a bad header) and drops the packet: the counters show the drops and the
# retransmissions, no iSCSI digest error is counted, and in both cases the tape reads back
# byte-exact (tar extract + cmp). The emulator's per-record CRC32C covers the data as it arrived,
# so only a read-back compare could expose corruption that got past the transport.
# Library: tests/vm/configs/iscsi-failures.toml; helpers from 96-iscsi-session.sh.
# shellcheck source=tests/vm/96-iscsi-session.sh
source "$(dirname "${BASH_SOURCE[0]}")/96-iscsi-session.sh"

CORRUPT=${VTL_NETEM_CORRUPT:-2%}
TREE_MIB=12
BLOCKING=512 # tar records of 512 x 512 = 256 KiB, one tape record each

# counters: the kernel's IP/TCP counters that say what happened to corrupted packets.
COUNTERS=(IpInHdrErrors IpInDiscards TcpInCsumErrors TcpInErrs TcpRetransSegs TcpExtTCPLostRetransmit)
declare -A C0=() C1=()
snap() {
    local -n into=$1
    local k v
    # shellcheck disable=SC2034,SC2004  # a nameref to an associative array
    while read -r k v _; do into[$k]=$v; done < <(nstat -asz "${COUNTERS[@]}" 2>/dev/null | grep -v '^#')
}
# netem_phase NAME: tar the tree to tape through netem; prints what the kernel counted.
netem_phase() {
    local name=$1 t0 k
    C0=() C1=()
    snap C0
    run tc qdisc add dev lo root netem corrupt "$CORRUPT"
    t0=$SECONDS
    tar -cf "$NST" -b "$BLOCKING" -C "$WORK" tree || fail "$name: tar to $NST failed"
    TAR_S=$((SECONDS - t0))
    NETEM=$(tc -s qdisc show dev lo | tr '\n' ' ')
    run tc qdisc del dev lo root
    snap C1
    DELTA=""
    for k in "${COUNTERS[@]}"; do
        D[$k]=$((${C1[$k]:-0} - ${C0[$k]:-0}))
        DELTA+=" $k=+${D[$k]}"
    done
    echo "$name: tar of $TREE_MIB MiB in $TAR_S s; netem: $NETEM"
    echo "$name: kernel counters:$DELTA"
    local stats
    stats=$(iscsiadm -m session -r "${SESS##*session}" -s 2>&1) || fail "iscsiadm -m session -s: $stats"
    DIGEST_ERR=$(awk '$1 == "digest_err:" {print $2}' <<<"$stats")
    echo "$name: iSCSI session stats: $(grep -E 'digest_err|timeout_err' <<<"$stats" | tr -s ' \n' ' ')"
    # What the transport did with the corrupted packets: dropped them on a bad checksum and
    # sent them again; no session error, no digest error.
    ((D[TcpRetransSegs] > 0)) || fail "$name: no TCP retransmission under netem corrupt $CORRUPT"
    ((D[IpInHdrErrors] + D[TcpInCsumErrors] > 0)) || fail "$name: no bad IP header or TCP checksum counted"
    [[ $DIGEST_ERR == 0 ]] || fail "$name: digest_err is '$DIGEST_ERR', expected 0"
}
declare -A D=()
# readback_tar NAME: the next tape file, extracted, equals the tree.
readback_tar() {
    rm -rf "$WORK/restore"
    mkdir -p "$WORK/restore"
    tar -xf "$NST" -b "$BLOCKING" -C "$WORK/restore" || fail "$1: tar extract from $NST failed"
    diff -r "$WORK/tree" "$WORK/restore/tree" || fail "$1: the tape's tree differs from the source"
    echo "$1: $(find "$WORK/restore/tree" -type f | wc -l) files read back, identical"
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

# ---- the test
if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
    T0=$SECONDS
    require_vtld_tcmu
    ifail_up
    modprobe sch_netem || fail "modprobe sch_netem"
    mkdir -p "$WORK/tree"
    for i in $(seq 1 $((TREE_MIB / 2))); do head -c $((2 * MiB - i * 4099)) /dev/urandom >"$WORK/tree/f$i"; done
    head -c $((TREE_MIB * MiB / 4)) /dev/zero >"$WORK/tree/zeros"

    step "(a) no digests"
    node_set node.conn[0].iscsi.HeaderDigest None
    node_set node.conn[0].iscsi.DataDigest None
    ifail_login
    digests_are None
    load_cartridge "$CSG" "$DSG"
    mt_ok setblk 0
    netem_phase "no digests"
    mt_ok rewind
    readback_tar "no digests"
    mt_ok offline
    run mtx -f "$CSG" unload 1 0
    expect "logout" iscsiadm -m node -T "$IQN" -p 127.0.0.1 --logout

    step "(b) HeaderDigest and DataDigest CRC32C"
    node_set node.conn[0].iscsi.HeaderDigest CRC32C
    node_set node.conn[0].iscsi.DataDigest CRC32C
    ifail_login
    digests_are CRC32C
    load_cartridge "$CSG" "$DSG"
    mt_ok setblk 0
    mt_ok eod
    netem_phase "CRC32C digests"
    mt_ok rewind
    mt_ok fsf 1
    readback_tar "CRC32C digests"
    dmesg | grep -iE 'digest|iscsi|connection' | tail -n 20 || true
    tape_finish "$CSG"
    ifail_down
    echo "98-netem-digest passed in $((SECONDS - T0)) s"
fi
