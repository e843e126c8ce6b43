#!/usr/bin/env bash
# Bacula's own tape tester, unmodified (Debian's bacula-sd), through the kernel's st driver over
# tcm_loop: `btape test` on the drive (write, rewind and re-read 2 x 10000 blocks, block
# positioning, append after EOD, backspace and re-read, forward space file). A pass is btape's
# exit status 0, none of its failure or "please add ..." advice, and every success line of each
# sub-test. The changer side (mtx-changer, btape autochanger and fill) is 101-bacula-changer.
# Library: tests/vm/configs/clients.toml; helpers: tests/vm/bacula.bash.
# shellcheck source=tests/vm/lib.bash
source "$(dirname "$0")/lib.bash"
# shellcheck source=tests/vm/bacula.bash
source "$(dirname "$0")/bacula.bash"

T0=$SECONDS
bacula_up

step "mtx-changer load 3 into drive 0"
mtx_changer "$CSG" load 3 "$NST" 0 >/dev/null
changer_loaded 3 "after load 3"
unit_ready "$DSG" 30

step "btape test on $NST (TST003L8)"
btape_run test TestDrive $'test\nquit'
btape_says test 2 "=== Test Succeeded. End Write, rewind, and re-read test ==="
btape_says test 2 "10000 blocks re-read correctly."
# Once in the append test and once in the forward space file test.
btape_says test 2 "We should be in file 3. I am at file 3. This is correct!"
btape_says test 2 "We should be in file 4. I am at file 4. This is correct!"
btape_says test 1 "Block re-read correct. Test succeeded!"
btape_says test 1 "=== End Write, backup, and re-read test ==="
btape_says test 1 "We should be in file 1. I am at file 1. This is correct!"
btape_says test 1 "We should be in file 5. I am at file 5. This is correct!"
btape_says test 1 "=== End Forward space files test ==="
# The scan of the append test: files of 1, 2, 3 and 1 blocks (btape's "sample correct output").
scan_re=$'\n1 block of ([0-9]+) bytes in file 1\nEnd of File mark\.\n2 blocks of ([0-9]+) bytes in file 2\nEnd of File mark\.\n3 blocks of ([0-9]+) bytes in file 3\nEnd of File mark\.\n1 block of ([0-9]+) bytes in file 4\nEnd of File mark\.\nTotal files=4, blocks=7, bytes = '
[[ $BTAPE_OUT =~ $scan_re ]] || fail "btape test: the append test's scan is not 1, 2, 3 and 1 blocks in files 1-4"
b=${BASH_REMATCH[1]}
[[ ${BASH_REMATCH[2]} == "$b" && ${BASH_REMATCH[3]} == "$b" && ${BASH_REMATCH[4]} == "$b" ]] ||
    fail "btape test: the scan's blocks differ in size"
echo "  ok: the scan: 1, 2, 3 and 1 blocks of $b bytes in files 1-4"

bacula_down 3
echo "100-bacula passed in $((SECONDS - T0)) s"
