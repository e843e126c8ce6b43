#!/usr/bin/env bash
# Bacula's changer side, unmodified (Debian's bacula-sd), through the kernel's st and sg drivers
# over tcm_loop: Bacula's /etc/bacula/scripts/mtx-changer as the storage daemon calls it (slots,
# list, loaded, load); btape's `autochanger` test through it (loaded, unload, load, rewind, write
# EOF); and `fill` in multiple-tape mode: the first cartridge is written to its end, the
# autochanger loads the second, both are re-read and their first and last blocks compared. A pass
# is btape's exit status 0, none of its failure or "please add ..." advice, and every success line
# of each sub-test. The drive alone (btape test) is 100-bacula.
# Library: tests/vm/configs/clients.toml; helpers: tests/vm/bacula.bash.
# shellcheck source=tests/vm/lib.bash
source "$(dirname "$0")/lib.bash"
# shellcheck source=tests/vm/bacula.bash
source "$(dirname "$0")/bacula.bash"

T0=$SECONDS
bacula_up

step "mtx-changer: slots, list, loaded (nothing), load 3 into drive 0, loaded (3)"
out=$(mtx_changer "$CSG" slots 0 "$NST" 0)
[[ $out == 8 ]] || fail "mtx-changer slots says '$out', expected 8"
out=$(mtx_changer "$CSG" list 0 "$NST" 0)
[[ $out == $'1:FIL001L8\n2:FIL002L8\n3:TST003L8\n4:AMT004L8' ]] || fail "mtx-changer list says '$out'"
changer_loaded 0 "with an empty drive"
mtx_changer "$CSG" load 3 "$NST" 0 >/dev/null
changer_loaded 3 "after load 3"
unit_ready "$DSG" 30

step "btape autochanger (Bacula's mtx-changer on $CSG): unload 3, load 1, rewind, write EOF"
btape_run autochanger LibraryDrive $'autochanger\ny\nquit'
btape_says autochanger 1 "3301 Issuing autochanger \"loaded\" command."
btape_says autochanger 1 "Slot 3 loaded. I am going to unload it."
btape_says autochanger 1 "3302 Issuing autochanger \"unload 3 0\" command."
btape_says autochanger 1 "unload status=OK 0"
btape_says autochanger 1 "3303 Autochanger \"load 1 0\" status is OK."
btape_says autochanger 1 "The test autochanger worked!!"
changer_loaded 1 "after btape's autochanger test"

step "btape fill, multiple tapes (FIL001L8 to its end, then FIL002L8), then the re-read"
btape_run fill LibraryDrive $'fill\nm\nquit'
# (after btape's "(s/m) " prompt, on the same line)
grep -q "Multiple tape test selected\.$" <<<"$BTAPE_OUT" || fail "btape fill: the multiple tape test was not selected"
btape_says fill 1 "Wrote 1000 blocks on second tape. Done."
btape_says fill 1 "The last block of the first tape matches."
btape_says fill 1 "The first block on the second tape matches."
btape_says fill 1 "The last block on the second tape matches. Test succeeded."
grep -E "End of Volume \"TestVolume1\" at [0-9]+:[0-9]+ on device" <<<"$BTAPE_OUT" ||
    fail "btape fill: the first tape did not reach its end"
grep -E "^(btape: btape\.c:[0-9]+-[0-9]+ )?End of tape [0-9]+:[0-9]+\. Volume Bytes=" <<<"$BTAPE_OUT" || fail "btape fill: no 'End of tape' line"
# Its re-read of the first tape needs 10000 records (32 KiB each) before the end.
grep -E "^10000 records read now at [0-9]+:[0-9]+$" <<<"$BTAPE_OUT" || fail "btape fill: no '10000 records read now' line"
changer_loaded 2 "after fill (the second tape)"

bacula_down 2
echo "101-bacula-changer passed in $((SECONDS - T0)) s"
