#!/usr/bin/env bash
# schemathesis against the OpenAPI document the gateway serves: the real binary on a
# copy of the sample configuration (rates raised for a fuzzer), over TLS with the
# development CA, once with a token of each role and once without a token.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)

if ! python3 -c 'import schemathesis' 2>/dev/null; then
  python3 -m pip install --quiet --disable-pip-version-check 'schemathesis>=4,<5'
fi
# The test suite passes the binary it built; run alone, the script builds it.
motcua="${MOTCUA_BIN:-}"
if [ -z "$motcua" ]; then
  cargo build --quiet -p motcua-gateway --bin motcua
  motcua="$repo/target/debug/motcua"
fi

work=$(mktemp -d)
pid=""
cleanup() {
  [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

cp -r config "$work/config"
conf="$work/config/gateway.toml"
sed -i \
  -e "s|^listen = .*|listen = \"127.0.0.1:0\"|" \
  -e "s|^admin_listen = .*|admin_listen = \"127.0.0.1:0\"|" \
  -e "s|^data_dir = .*|data_dir = \"$work/data\"|" \
  -e "s|^public_rate = .*|public_rate = { per_second = 100000, burst = 100000 }|" \
  -e "s|^rate = .*|rate = { per_second = 100000, burst = 100000 }|" \
  "$conf"

"$motcua" serve --config "$conf" >"$work/stdout" 2>"$work/gateway.log" &
pid=$!
for _ in $(seq 1 300); do
  grep -q '^motcua: ready' "$work/stdout" 2>/dev/null && break
  kill -0 "$pid" 2>/dev/null || { cat "$work/gateway.log" >&2; exit 1; }
  sleep 0.1
done
url=$(sed -n 's|^motcua: listening on \(https://[^ ]*\).*|\1|p' "$work/stdout")
[ -n "$url" ] || { echo "the gateway did not start" >&2; cat "$work/gateway.log" >&2; exit 1; }

# schemathesis keeps a cache in its working directory: keep it in the scratch one.
cd "$work"
checks=not_a_server_error,status_code_conformance,content_type_conformance,response_headers_conformance,response_schema_conformance
run() {
  echo "schemathesis: $1"
  shift
  schemathesis run "$url/openapi.yaml" --url "$url" --tls-verify "$work/data/tls/dev-ca.pem" \
    --checks "$checks" --max-examples "${SCHEMATHESIS_EXAMPLES:-25}" --seed 20261126 \
    --generation-deterministic --no-color --workers 1 --suppress-health-check all "$@"
}
for client in portal-dev postal-dev admin-dev mc-tram-tau-dev hcc-tinh-dev; do
  token=$("$motcua" token --client "$client" --ttl 3600 --config "$conf")
  run "$client" -H "Authorization: Bearer $token"
done
run "no token"
# The gateway never answered 500 and logged no panic.
if grep -q 'panicked\|" status=500\|status=500 ' "$work/gateway.log"; then
  grep 'panicked\|status=500' "$work/gateway.log" | head -20 >&2
  exit 1
fi
echo "schemathesis: 6 runs, nothing found"
