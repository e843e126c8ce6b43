#!/usr/bin/env bash
# The SSC tape drive through st over iSCSI (open-iscsi logged in to 127.0.0.1 in the VM), where
# commands are not capped at tcm_loop's 1 MiB: the same positioning suite as 80-tape-loop with
# variable records from 64 KiB up to 8 MiB (dd, read back byte-identical, exact `mt tell` and
# `mt status` after rewind, fsf, bsf, eod, seek, weof; tar to tape and back), fixed-block mode
# with 64 KiB and 1 MiB blocks, and the short-read suite (st without and with SILI, READ(6)
# through sg_raw with its ILI sense and residual). Library: tests/vm/configs/tape-drive.toml.
# The suites are the functions of 80-tape-loop.sh (sourced; its own test body does not run).
# shellcheck source=tests/vm/80-tape-loop.sh
source "$(dirname "$0")/80-tape-loop.sh"

T0=$SECONDS
require_vtld_tcmu
step "modules"
load_lio_modules iscsi_target_mod iscsi_tcp
tape_setup_work

step "start $VTLD --config ${TAPE_CONFIG#"$VTL_REPO"/}, scripts/lio up --fabric iscsi"
start_vtld --config "$TAPE_CONFIG"
iscsi_library_up "$TAPE_LIB" --config "$TAPE_CONFIG"

step "iscsid, discovery, login to $iqn"
iscsi_login "$iqn" 3 # the changer and two drives

lun_sg() { grep -E "^\[[0-9]+:[0-9]+:[0-9]+:$1\] .*$iqn" "$TEST_OUT/lsscsi.txt" | grep -o '/dev/sg[0-9]*'; }
CSG=$(lun_sg 0) || fail "no changer at LUN 0"
DSG=$(lun_sg 1) || fail "no drive at LUN 1"
NST=$(nst_of_sg "$DSG") || fail "st did not bind to $DSG (no scsi_tape/nstN)"
echo "changer $CSG; drive0 $DSG $NST"

step "mtx load 1 0; wait for the drive"
load_cartridge "$CSG" "$DSG"

tape_positioning_suite $((8 * MiB))
tape_fixed_suite $((64 * KiB)) $((1 * MiB))
tape_short_read_suite "$DSG"
tape_finish "$CSG"

iscsi_library_down
echo "85-tape-iscsi passed in $((SECONDS - T0)) s"
