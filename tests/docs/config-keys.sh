#!/usr/bin/env bash
# Every key the config parser accepts (the only({...}) lists and kCartridgeKeys in
# emulator/config/config.cpp, by the TOML table each function reads) must be documented in
# docs/configuration.md as `library.<table>.<key>`; and the page's complete example must pass
# `vtld --check` (when a vtld is built, or VTLD names one).
set -euo pipefail
ROOT=$(realpath "$(dirname "${BASH_SOURCE[0]}")/../..")
SRC=$ROOT/emulator/config/config.cpp
DOC=$ROOT/docs/configuration.md

# "table key" lines: the function a list appears in gives its table.
keys=$(awk '
    match($0, /Parser::[a-z_]+\(/) { fn = substr($0, RSTART + 8, RLENGTH - 9) }
    /kCartridgeKeys = \{/ { collecting = 1; table = "library.cartridges"; buf = "" }
    /\.only\(\{/ && !/only\(kCartridgeKeys\)/ {
        collecting = 1; buf = ""
        table = fn == "parse" ? "-" : fn == "library" ? "library" : "library." fn
    }
    collecting {
        buf = buf $0
        if (buf ~ /\}/) {
            sub(/^[^{]*\{/, "", buf); sub(/\}.*$/, "", buf)
            n = split(buf, parts, ",")
            for (i = 1; i <= n; i++) {
                k = parts[i]; gsub(/[" \t]/, "", k)
                if (k != "") print table, k
            }
            collecting = 0
        }
    }' "$SRC")
count=$(wc -l <<<"$keys")
((count >= 30)) || { echo "config-keys: found only $count keys in $SRC: the extraction is broken" >&2; exit 1; }

missing=0
while read -r table key; do
    path=$table.$key
    [[ $table == - ]] && path=$key
    if ! grep -qF "\`$path\`" "$DOC"; then
        echo "config-keys: $path (accepted by $SRC) is not documented in docs/configuration.md" >&2
        missing=$((missing + 1))
    fi
done <<<"$keys"
((missing == 0)) || exit 1
echo "config-keys: all $count keys the parser accepts are in docs/configuration.md"

VTLD=${VTLD:-$(ls -t "$ROOT"/build/*/handler/vtld 2>/dev/null | head -n 1 || true)}
if [[ -n $VTLD && -x $VTLD ]]; then
    example=$(mktemp)
    trap 'rm -f "$example"' EXIT
    # The first ```toml block after "## A complete example".
    awk '/^## A complete example/ { on = 1 } on && /^```toml/ { inblk = 1; next } inblk && /^```/ { exit } inblk' "$DOC" >"$example"
    [[ -s $example ]] || { echo "config-keys: no complete example in docs/configuration.md" >&2; exit 1; }
    "$VTLD" --check --config "$example" >/dev/null || { echo "config-keys: the complete example fails vtld --check" >&2; exit 1; }
    echo "config-keys: the complete example passes $VTLD --check"
fi
