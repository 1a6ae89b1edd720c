#!/usr/bin/env bash
# repro-dev-chunked.sh — under `wrangler dev`, a request whose chunked body the Worker stopped
# reading part-way (what hono/body-limit does past maxSize) breaks the NEXT request through
# wrangler's dev proxy, from any client: GET/HEAD stall, other methods get a 503
# "Your worker restarted mid-request", for ~5 s after the refused request.
#
# Run from the repository root (uses the project's pinned wrangler, no network):
#   bash scripts/repro-dev-chunked.sh [ROUNDS=20] [PORT=8799]
# It writes a throw-away worker under .wrangler/repro-chunked/ (git-ignored), starts
# `wrangler dev` on PORT, and for each path below sends ROUNDS x (one 300 KB chunked POST,
# then at once a plain GET /ok on a new connection, 5 s timeout), and counts the GETs.
#   /partial   reads the body past 128 KiB, then answers 413 (Hono bodyLimit's behaviour)
#   /hono      Hono's bodyLimit (maxSize 128 KiB)                 -> next GET stalls
#   /cancel    reads past 128 KiB, reader.cancel(), then 413      -> stalls too (most rounds)
#   /drain     reads past 128 KiB, reads the rest, then 413       -> no stall
#   /untouched answers 413 without touching request.body          -> no stall (wrangler's own
#              dev middleware drains an unused body)
#   /ours      the demo's bodyLimit (src/routes/body-limit.ts), which drains -> no stall
# Exit status: 1 if any /partial or /hono round stalled or got a 503 (bug reproduced) while
# /ours had none; 3 if /ours failed too (our fix no longer helps); 0 if nothing reproduced.
# Upstream: cloudflare/workerd#1741 (a workerd fetch() reuses a keep-alive connection that an
# unconsumed request body left dead: "Network connection lost"), and, in wrangler 4.86's
# ProxyWorker, cloudflare/workers-sdk#14593 (that error misread as "the worker restarted":
# GET parked forever in the retry queue, POST answered 503).
set -u
ROUNDS=${1:-20}
PORT=${2:-8799}
INSPECTOR_PORT=$((PORT + 1))
export CLOUDFLARE_CF_FETCH_ENABLED=false WRANGLER_SEND_METRICS=false
DIR=.wrangler/repro-chunked
mkdir -p "$DIR"
cat > "$DIR/worker.js" <<'EOF'
import { Hono } from 'hono'
import { bodyLimit } from 'hono/body-limit'
import { bodyLimit as drainingBodyLimit } from '../../src/routes/body-limit.ts'
const LIMIT = 128 * 1024
const tooBig = () => new Response('too big\n', { status: 413 })
const hono = new Hono()
hono.use('/hono', bodyLimit({ maxSize: LIMIT, onError: (c) => c.text('too big\n', 413) }))
hono.post('/hono', (c) => c.text('ok\n'))
hono.use('/ours', drainingBodyLimit({ maxSize: LIMIT, onError: (c) => c.text('too big\n', 413) }))
hono.post('/ours', (c) => c.text('ok\n'))
export default {
  async fetch(request) {
    const path = new URL(request.url).pathname
    if (path === '/ok') return new Response('ok\n')
    if (path === '/hono' || path === '/ours') return hono.fetch(request)
    if (path === '/untouched' || !request.body) return tooBig()
    const reader = request.body.getReader()
    let n = 0
    for (;;) {
      const { done, value } = await reader.read()
      if (done) return new Response(`ok ${n}\n`)
      n += value.byteLength
      if (n > LIMIT) break
    }
    if (path === '/cancel') await reader.cancel()
    if (path === '/drain') while (!(await reader.read()).done) {}
    return tooBig()
  },
}
EOF
cat > "$DIR/wrangler.toml" <<'EOF'
name = "repro-dev-chunked"
main = "worker.js"
compatibility_date = "2026-04-26"
EOF
BODY=$(mktemp)
head -c 300000 /dev/zero | tr '\0' a > "$BODY"
LOG=$(mktemp)
setsid npx --no-install wrangler dev --config "$DIR/wrangler.toml" --port "$PORT" \
  --inspector-port "$INSPECTOR_PORT" --persist-to "$DIR/state" > "$LOG" 2>&1 &
WRANGLER_PID=$!
cleanup() { kill -- -"$WRANGLER_PID" 2>/dev/null; rm -f "$BODY"; }
trap cleanup EXIT
for _ in $(seq 1 60); do
  curl -s -m 1 "http://127.0.0.1:$PORT/ok" > /dev/null && break
  sleep 0.5
done
curl -s -m 2 "http://127.0.0.1:$PORT/ok" > /dev/null || { echo "wrangler dev did not start:"; cat "$LOG"; exit 2; }
echo "wrangler $(npx --no-install wrangler --version 2>/dev/null | tail -1), $ROUNDS rounds per path, 300000-byte chunked POST then GET /ok"
status=0
ours=0
for path in /partial /hono /cancel /drain /untouched /ours; do
  ok=0 stall=0 s503=0 other=0 big503=0
  for _ in $(seq 1 "$ROUNDS"); do
    b=$(curl -s -m 30 -X POST -H 'Content-Type: application/json' -H 'Transfer-Encoding: chunked' \
      --data-binary @- "http://127.0.0.1:$PORT$path" -o /dev/null -w '%{http_code}' < "$BODY")
    [ "$b" = 503 ] && big503=$((big503 + 1))
    n=$(curl -s -m 5 "http://127.0.0.1:$PORT/ok" -o /dev/null -w '%{http_code}')
    case $n in 200) ok=$((ok + 1)) ;; 503) s503=$((s503 + 1)) ;; 000) stall=$((stall + 1)) ;; *) other=$((other + 1)) ;; esac
    sleep 1 # let a parked GET's client give up; the next round's POST then releases it
  done
  printf '%-11s next GET: %2d ok, %2d stalled >5s, %2d 503, %2d other; the POST itself got 503 %d times\n' \
    "$path" "$ok" "$stall" "$s503" "$other" "$big503"
  case $path in
    /partial | /hono) [ $((stall + s503 + other + big503)) -gt 0 ] && status=1 ;;
    /ours) ours=$((stall + s503 + other + big503)) ;;
  esac
done
[ $status = 1 ] && echo "reproduced: a body left part-read breaks the next request through wrangler dev's proxy"
if [ "$ours" -gt 0 ]; then
  echo "the demo's draining bodyLimit did not avoid it ($ours failed rounds on /ours)"
  exit 3
fi
exit $status
