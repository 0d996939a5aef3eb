#!/usr/bin/env bash
# The `mlops` command line through its binary, as a user types it:
#   mlops_cli_test.sh MLOPS_BINARY mmap|kafka|redis
# kafka needs $MLOPS_TEST_KAFKA (brokers; mlops_test_kafka_mock_run sets it) and the topics
# etl, jsonl, timed, lagged, perf, raw; redis needs $MLOPS_TEST_REDIS (HOST:PORT of an empty
# server; mlops_test_redis_run starts one). Every check can fail; every wait has a deadline.
set -u -o pipefail

MLOPS=$1
BACKEND=$2
WORK=$(mktemp -d "${TMPDIR:-/tmp}/mlops-cli-test.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
failures=0
checks=0

case $BACKEND in
  mmap)
    URI="mmap://$WORK/queue"
    WAIT=3000 ;;
  kafka)
    [ -n "${MLOPS_TEST_KAFKA:-}" ] || { echo "SKIP: MLOPS_TEST_KAFKA is not set"; exit 77; }
    # Short group timings: the mock delays a group's first join by 3 s regardless.
    URI="kafka://$MLOPS_TEST_KAFKA?session.timeout.ms=6000&heartbeat.interval.ms=300&timeout_ms=10000"
    WAIT=15000 ;;
  redis)
    [ -n "${MLOPS_TEST_REDIS:-}" ] || { echo "SKIP: MLOPS_TEST_REDIS is not set"; exit 77; }
    URI="redis://$MLOPS_TEST_REDIS?timeout_ms=3000"
    WAIT=3000 ;;
  *) echo "unknown backend $BACKEND"; exit 2 ;;
esac

fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
pass() { checks=$((checks + 1)); }
# check NAME CONDITION-COMMAND...: counts a passed check or reports a failure.
check() {
  local name=$1
  shift
  if "$@"; then pass; else fail "$name"; fi
}
contains() { grep -qF -- "$2" "$1"; }
not_contains() { ! grep -qF -- "$2" "$1"; }
lines_are() { [ "$(grep -c '' "$1")" -eq "$2" ]; }
# run NAME EXPECTED_STATUS COMMAND...: runs with stdout in $WORK/out and stderr in $WORK/err.
run() {
  local name=$1 expected=$2
  shift 2
  "$@" >"$WORK/out" 2>"$WORK/err"
  local status=$?
  if [ "$status" -ne "$expected" ]; then
    fail "$name: exit $status, not $expected; stderr: $(head -c 400 "$WORK/err")"
  else
    pass
  fi
}

# --- usage errors: exit 2, one line on stderr saying what was wrong ---------------------
run "no command" 2 "$MLOPS"
run "unknown command" 2 "$MLOPS" frobnicate
check "unknown command named" contains "$WORK/err" "frobnicate"
run "unknown flag" 2 "$MLOPS" send "$URI" etl --no-such-flag
check "unknown flag named" contains "$WORK/err" "no-such-flag"
check "usage error is one line" lines_are "$WORK/err" 1
run "bad --type" 2 "$MLOPS" send "$URI" etl --type LAUNCH
check "bad --type named" contains "$WORK/err" "LAUNCH"
run "bad --from" 2 "$MLOPS" tail "$URI" etl --from yesterday
run "bad --from time" 2 "$MLOPS" tail "$URI" etl --from time:2026-13-01T00:00:00Z
run "--commit without --group" 2 "$MLOPS" tail "$URI" etl --commit
run "bad --format" 2 "$MLOPS" tail "$URI" etl --format xml
run "--count 0" 2 "$MLOPS" send "$URI" etl --count 0
run "bad --arg" 2 "$MLOPS" send "$URI" etl --arg novalue
run "missing topic" 2 "$MLOPS" send "$URI"
run "invalid topic name" 2 "$MLOPS" send "$URI" "bad/topic"
check "invalid topic named" contains "$WORK/err" "bad/topic"
run "topic named .." 2 "$MLOPS" send "$URI" ".."
check "the rule says . and .. are out" contains "$WORK/err" "not . or .."
run "huge --count" 2 "$MLOPS" send "$URI" etl --count 99999999999999999999
run "--retries overflow" 2 "$MLOPS" send "$URI" etl --retries 99999999999
run "--set without =" 1 "$MLOPS" topics "$URI" --set novalue
run "--help" 0 "$MLOPS" tail --help
check "--help names --from" contains "$WORK/out" "--from"
run "bad URI" 1 "$MLOPS" topics "nosuchscheme://x"
check "bad URI one line" lines_are "$WORK/err" 1

# --- send/tail round trip of every field --------------------------------------------------
run "send every field" 0 "$MLOPS" send "$URI" etl --type START --creator etl-job --creator-type ETL \
  --stage TRAIN --next-task train --next-task eval --user-msg "hello world" --output /data/a \
  --recipient ops --recipient ml --retries 2 --arg epochs=3 --arg lr=0.5 --arg name=x \
  --arg flag=true --arg quoted='"7"' --key k1 --count 2 --flush
run "tail json" 0 "$MLOPS" tail "$URI" etl --format json --count 2 --timeout "$WAIT"
cp "$WORK/out" "$WORK/etl.json"
check "two messages" lines_are "$WORK/etl.json" 2
for field in '"msg_type": "START"' '"creator": "etl-job"' '"creator_type": "MLOPS"' '"stage": "TRAIN"' \
  '"next_task": ["train","eval"]' '"user_message": "hello world"' '"retries": 2' '"output": ["/data/a"]' \
  '"recipient": ["ops","ml"]' '{"key": "epochs","value": 3}' '{"key": "lr","value": 0.5}' \
  '{"key": "name","value": "x"}' '{"key": "flag","value": true}' '{"key": "quoted","value": "7"}' \
  '"key": "k1"' '"timestamp_ns": '; do
  check "round trip keeps $field" contains "$WORK/etl.json" "$field"
done
run "tail text" 0 "$MLOPS" tail "$URI" etl --count 1 --timeout "$WAIT"
check "text line" contains "$WORK/out" 'START creator="etl-job" creator_type=mlops stage=TRAIN next_task=["train","eval"]'
run "tail raw" 0 "$MLOPS" tail "$URI" etl --format raw --count 2 --timeout "$WAIT"
cp "$WORK/out" "$WORK/etl.raw"
run "decode framed" 0 "$MLOPS" decode --framed "$WORK/etl.raw"
check "raw decodes to the same JSON" cmp -s "$WORK/out" "$WORK/etl.json"

# --- send --json -: good lines, a bad line (its number), --keep-going ----------------------
head -1 "$WORK/etl.json" | sed 's/"user_message": "hello world"/"user_message": "from json 1"/' >"$WORK/good1"
head -1 "$WORK/etl.json" | sed 's/"user_message": "hello world"/"user_message": "from json 3"/' >"$WORK/good3"
cat "$WORK/good1" >"$WORK/lines"
echo '{"msg_type": "NOT_A_TYPE"' >>"$WORK/lines"
cat "$WORK/good3" >>"$WORK/lines"
"$MLOPS" send "$URI" jsonl --json - <"$WORK/lines" >"$WORK/out" 2>"$WORK/err"
check "bad line fails" [ $? -eq 1 ]
check "bad line's number" contains "$WORK/err" "line 2"
run "after a bad line" 0 "$MLOPS" tail "$URI" jsonl --count 5 --timeout "$WAIT"
check "line 1 sent" contains "$WORK/out" "from json 1"
check "nothing after the bad line" not_contains "$WORK/out" "from json 3"
"$MLOPS" send "$URI" jsonl --json - --keep-going <"$WORK/lines" >"$WORK/out" 2>"$WORK/err"
check "--keep-going still fails" [ $? -eq 1 ]
check "--keep-going names line 2" contains "$WORK/err" "line 2"

# --- output that cannot be written (a full disk) fails; a reader going away does not ----
if [ -w /dev/full ]; then
  "$MLOPS" tail "$URI" etl --count 1 --timeout "$WAIT" >/dev/full 2>"$WORK/err"
  check "tail into a full disk exits 1" [ $? -eq 1 ]
  check "and says why" contains "$WORK/err" "writing the output failed"
fi
"$MLOPS" tail "$URI" etl --count 1 --timeout "$WAIT" 2>"$WORK/err" | head -c 0
check "tail into a closed pipe exits 0" [ "${PIPESTATUS[0]}" -eq 0 ]
run "after --keep-going" 0 "$MLOPS" tail "$URI" jsonl --count 3 --timeout "$WAIT"
check "three sent in all" lines_are "$WORK/out" 3
check "line 3 sent with --keep-going" contains "$WORK/out" "from json 3"
printf '\n%s\n' "$(cat "$WORK/good1")" | "$MLOPS" send "$URI" jsonl --json - >"$WORK/out" 2>"$WORK/err"
check "blank lines are skipped" [ $? -eq 0 ]
# The original library's JSON (json.dumps of its to_json() dict) is read as well.
printf '%s\n' '{"msg_type": "COMPLETE", "topic": "legacy", "creator": "old-etl", "creator_type": "ETL", "stage": null, "next_task": ["Train"], "usr_msg": "from the original", "retries": 0, "output": [], "recipient": [], "add_data": {"rows": 3}}' |
  "$MLOPS" send "$URI" legacyjson --json - >"$WORK/out" 2>"$WORK/err"
check "an original-format line is sent" [ $? -eq 0 ]
run "tail the original-format line" 0 "$MLOPS" tail "$URI" legacyjson --format json --count 1 --timeout "$WAIT"
check "its user message arrives" contains "$WORK/out" "from the original"
check "its creator arrives" contains "$WORK/out" "old-etl"
printf '%s\n' '{"usr_msg": 5}' | "$MLOPS" send "$URI" legacyjson --json - >"$WORK/out" 2>"$WORK/err"
check "a line neither form reads fails" [ $? -eq 1 ]
check "its error names both forms" contains "$WORK/err" "original library"

# --- tail shows the trace context (W3C traceparent) -----------------------------------------
TRACE=00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01
printf '%s\n' "{\"msg_type\": \"START\", \"user_message\": \"traced\", \"trace_context\": \"$TRACE\"}" \
  "{\"msg_type\": \"START\", \"user_message\": \"untraced\"}" |
  "$MLOPS" send "$URI" traced --json - >"$WORK/out" 2>"$WORK/err"
check "a traced line is sent" [ $? -eq 0 ]
run "tail text with a trace" 0 "$MLOPS" tail "$URI" traced --count 2 --timeout "$WAIT"
check "the text line shows the trace" contains "$WORK/out" "trace=\"$TRACE\""
check "a message without one shows none" [ "$(grep -c 'trace=' "$WORK/out")" -eq 1 ]
run "tail json with a trace" 0 "$MLOPS" tail "$URI" traced --format json --count 1 --timeout "$WAIT"
check "the JSON shows the trace" contains "$WORK/out" "\"trace_context\": \"$TRACE\""

# --- tail --from time: with timestamps on both sides --------------------------------------
run "send before" 0 "$MLOPS" send "$URI" timed --user-msg before --flush
cutoff=$(date -u +%Y-%m-%dT%H:%M:%S.%NZ)
run "send after" 0 "$MLOPS" send "$URI" timed --user-msg after --flush
run "tail --from time" 0 "$MLOPS" tail "$URI" timed --from "time:$cutoff" --count 1 --timeout "$WAIT"
check "--from time: keeps the later" contains "$WORK/out" 'msg="after"'
check "--from time: drops the earlier" not_contains "$WORK/out" 'msg="before"'
run "tail --from earliest" 0 "$MLOPS" tail "$URI" timed --count 2 --timeout "$WAIT"
check "both without --from" lines_are "$WORK/out" 2

# --- groups: lag before and after a commit ------------------------------------------------
run "send three" 0 "$MLOPS" send "$URI" lagged --count 3 --user-msg lag --flush
run "read one, no commit" 0 "$MLOPS" tail "$URI" lagged --group g1 --count 1 --timeout "$WAIT"
run "groups before commit" 0 "$MLOPS" groups "$URI" lagged --group g1 --json
check "lag 3 before a commit" contains "$WORK/out" '"lag":3}'
run "read one, commit" 0 "$MLOPS" tail "$URI" lagged --group g1 --count 1 --commit --timeout "$WAIT"
run "groups after commit" 0 "$MLOPS" groups "$URI" lagged --group g1 --json
check "lag 2 after committing one" contains "$WORK/out" '"lag":2}'
run "read the rest, commit" 0 "$MLOPS" tail "$URI" lagged --group g1 --count 2 --commit --timeout "$WAIT"
run "groups after draining" 0 "$MLOPS" groups "$URI" lagged --group g1
check "lag 0 in the table" grep -qE '^lagged +g1 +[0-9]+ +[0-9]+ +0$' "$WORK/out"
run "tail without a group moves none" 0 "$MLOPS" tail "$URI" lagged --count 3 --timeout "$WAIT"
run "groups unchanged" 0 "$MLOPS" groups "$URI" lagged --group g1 --json
check "still lag 0" contains "$WORK/out" '"lag":0}'
run "topics" 0 "$MLOPS" topics "$URI" --json
check "topics counts lagged" contains "$WORK/out" '{"topic":"lagged","messages":3,'
run "groups of a missing topic" 1 "$MLOPS" groups "$URI" no-such-topic
run "tail of a missing topic" 1 "$MLOPS" tail "$URI" no-such-topic --timeout 100

# --- SIGPIPE: tail | head -1 exits cleanly --------------------------------------------------
"$MLOPS" tail "$URI" lagged --timeout "$WAIT" 2>"$WORK/err" | head -1 >"$WORK/out"
status=${PIPESTATUS[0]}
check "tail | head -1 exits 0 (was $status)" [ "$status" -eq 0 ]
check "tail | head -1 reports no error" not_contains "$WORK/err" "mlops tail"
check "head got its line" lines_are "$WORK/out" 1

# --- decode / encode ------------------------------------------------------------------------
head -c 300 /dev/urandom >"$WORK/garbage"
run "decode garbage" 1 "$MLOPS" decode "$WORK/garbage"
check "decode says why" contains "$WORK/err" "not a message"
run "decode empty" 1 "$MLOPS" decode /dev/null
printf '\xff\xff\xff\x7fabc' >"$WORK/bad.frame"
run "decode a frame longer than its input" 1 "$MLOPS" decode --framed "$WORK/bad.frame"
check "decode names the frame" contains "$WORK/err" "frame 1: says 2147483647 bytes, 3 remain"
run "encode" 0 "$MLOPS" encode "$WORK/good1"
cp "$WORK/out" "$WORK/one.bin"
run "decode what encode wrote" 0 "$MLOPS" decode "$WORK/one.bin"
check "encode/decode round trip" contains "$WORK/out" '"user_message": "from json 1"'
run "encode bad JSON" 1 "$MLOPS" encode "$WORK/lines"
check "encode names the line" contains "$WORK/err" "line 2"
ln -s "$WORK/one.bin" "$WORK/link.bin"
run "decode refuses a symbolic link" 1 "$MLOPS" decode "$WORK/link.bin"

# --- perf: a short run prints its figures and draws a PNG -----------------------------------
if /usr/bin/python3 -c 'import matplotlib' 2>/dev/null; then
  run "perf" 0 "$MLOPS" perf "$URI" --topic perf --count 400 --size 64 --rate 2000 --producers 2 \
    --plot "$WORK/perf.png" --timeout "$WAIT"
  for figure in "sent " "msgs/s" "MB/s" "p50" "p99.9" "back-pressured 0" "errors 0" "received  400 of 400"; do
    check "perf prints $figure" contains "$WORK/out" "$figure"
  done
  size=$(stat -c %s "$WORK/perf.png" 2>/dev/null || echo 0)
  check "perf PNG is a picture of some size ($size bytes)" [ "$size" -gt 10000 ]
  check "perf PNG magic" [ "$(head -c 4 "$WORK/perf.png" | tail -c 3)" = "PNG" ]
else
  fail "python3-matplotlib is missing (scripts/install-deps.sh installs it)"
fi
run "perf --json" 0 "$MLOPS" perf "$URI" --topic perf --count 200 --json --timeout "$WAIT"
check "perf --json parses" /usr/bin/python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["received"]==200 and d["latency_ms"]["p99"]>=0' "$WORK/out"

# --- redis only: a key of another type refuses XADD; send says so, and that nothing is held --
if [ "$BACKEND" = redis ]; then
  # SET through bash's own TCP (no redis-cli needed): the key then holds a string.
  if exec 3<>"/dev/tcp/${MLOPS_TEST_REDIS%:*}/${MLOPS_TEST_REDIS##*:}"; then
    printf 'SET strkey hello\r\n' >&3
    read -r -t 5 reply <&3 || reply=""
    exec 3<&-
    check "SET strkey answered +OK" [ "${reply%$'\r'}" = "+OK" ]
  else
    fail "cannot connect to $MLOPS_TEST_REDIS"
  fi
  for flush in "" --flush; do
    run "send to a string key $flush" 1 "$MLOPS" send "$URI" strkey --type START --count 2 $flush
    check "one line ($flush)" lines_are "$WORK/err" 1
    check "says none is stored ($flush)" contains "$WORK/err" "2 of 2 message(s) NOT stored"
    check "names the key and the cause ($flush)" contains "$WORK/err" "key 'strkey' holds another type, not a stream"
    check "no may-or-may-not ($flush)" not_contains "$WORK/err" "may or may not"
  done
fi

# --- inspect (mmap only): a healthy queue, one being written, a damaged one -----------------
if [ "$BACKEND" = mmap ]; then
  Q="$WORK/queue"
  run "inspect" 0 "$MLOPS" inspect "$Q"
  check "inspect lists etl" grep -qE '^topic etl: segment_bytes' "$WORK/out"
  check "inspect counts lagged" contains "$WORK/out" "records: published 3, skipped 0, pending 0, damaged ranges 0"
  check "inspect shows g1" contains "$WORK/out" "group g1: committed"
  run "inspect a missing dir" 1 "$MLOPS" inspect "$WORK/nothing-here"
  mkdir -p "$WORK/not-a-queue/sub"
  run "inspect a directory that is no queue" 1 "$MLOPS" inspect "$WORK/not-a-queue"
  check "inspect says it is no queue" contains "$WORK/err" "is not an mmap queue"
  check "inspect created nothing" [ ! -e "$WORK/nothing-here" ]

  # Being written: a paced perf run writes while inspect reads, again and again.
  "$MLOPS" perf "mmap://$Q" --topic busy --count 3000 --rate 3000 --consumers 0 >"$WORK/busy.out" 2>&1 &
  writer=$!
  deadline=$((SECONDS + 30))
  reads=0
  while kill -0 "$writer" 2>/dev/null && [ $SECONDS -lt $deadline ]; do
    if ! "$MLOPS" inspect "$Q" >"$WORK/out" 2>"$WORK/err"; then fail "inspect while written: $(cat "$WORK/err")"; break; fi
    reads=$((reads + 1))
  done
  wait "$writer"
  check "the writer finished" [ $? -eq 0 ]
  check "inspect ran while it wrote ($reads reads)" [ "$reads" -gt 0 ]
  run "inspect after" 0 "$MLOPS" inspect "$Q"
  check "all 3000 published" grep -qE "^  records: published 3000, skipped 0, pending 0, damaged ranges 0" <(sed -n '/^topic busy/,/^topic /p' "$WORK/out")

  # Damage: a flipped payload byte, a truncated segment, a garbage control file.
  cp -r "$Q" "$WORK/damaged"
  seg="$WORK/damaged/lagged/00000000000000000000.seg"
  printf '\xff\xff\xff\xff' | dd of="$seg" bs=1 seek=$((64 + 16 + 40)) conv=notrunc status=none
  run "inspect a flipped byte" 0 "$MLOPS" inspect "$WORK/damaged"
  check "CRC mismatch reported" contains "$WORK/out" "CRC mismatch"
  check "damage has a range" grep -qE 'damaged \[64, [0-9]+\): CRC mismatch' "$WORK/out"
  truncate -s 5000 "$WORK/damaged/timed/00000000000000000000.seg"
  head -c 100 /dev/urandom >"$WORK/damaged/jsonl/control"
  # A control block whose tail claims 2^61 bytes: billions of missing segments, one line.
  /usr/bin/python3 -c 'import struct,sys; p=sys.argv[1]; b=bytearray(open(p,"rb").read()); struct.pack_into("<Q",b,64,1<<61); open(p,"wb").write(b)' "$WORK/damaged/etl/control"
  run "inspect truncated and garbage" 0 "$MLOPS" inspect "$WORK/damaged"
  check "missing segments in one range" grep -qE "damaged \[[0-9]+, 2305843009213693952\): [0-9]+ segment file\(s\) missing" "$WORK/out"
  check "truncated segment reported" contains "$WORK/out" "file is 5000 bytes"
  check "garbage control reported" contains "$WORK/out" "topic jsonl: control file is damaged"
  run "inspect --json" 0 "$MLOPS" inspect --json "$WORK/damaged"
  check "inspect --json parses" /usr/bin/python3 -c 'import json,sys; [json.loads(l) for l in open(sys.argv[1])]' "$WORK/out"

  # A segment cut short (attack6 F3): listings write nothing; the records before the cut
  # are still delivered, the loss is logged, and new messages go on in the next segment.
  mkdir "$WORK/cut"
  cp -r "$Q/busy" "$WORK/cut/busy"
  truncate -s 100000 "$WORK/cut/busy/00000000000000000000.seg"
  cp "$WORK/cut/busy/control" "$WORK/cut-control"
  run "topics of a cut segment" 0 "$MLOPS" topics "mmap://$WORK/cut"
  check "topics counts the records before the cut" grep -qE '^busy +[1-9][0-9]* ' "$WORK/out"
  run "groups of a cut segment" 0 "$MLOPS" groups "mmap://$WORK/cut"
  check "topics and groups left the control file alone" cmp -s "$WORK/cut/busy/control" "$WORK/cut-control"
  run "tail a cut segment" 0 "$MLOPS" -v tail "mmap://$WORK/cut" busy --timeout 200
  before_cut=$(grep -c '' "$WORK/out")
  check "tail delivers the records before the cut ($before_cut)" [ "$before_cut" -gt 0 -a "$before_cut" -lt 3000 ]
  check "tail logs the bytes lost" grep -qF 'is cut short: bytes [100000, ' "$WORK/err"
  run "send after a cut segment" 0 "$MLOPS" send "mmap://$WORK/cut" busy --type START --flush
  run "tail after the send" 0 "$MLOPS" tail "mmap://$WORK/cut" busy --timeout 200
  check "the new message follows the old ones" lines_are "$WORK/out" $((before_cut + 1))

  # A control file cut short, its magic intact (attack7 F1): listings read it and write
  # nothing; a consumer's open restores its size and finds every record again.
  mkdir "$WORK/whole" "$WORK/short"
  cp -r "$Q/busy" "$WORK/whole/busy"
  cp -r "$Q/busy" "$WORK/short/busy"
  run "tail the whole topic" 0 "$MLOPS" tail "mmap://$WORK/whole" busy --timeout 200
  all_records=$(grep -c '' "$WORK/out")
  truncate -s 100 "$WORK/short/busy/control"
  cp "$WORK/short/busy/control" "$WORK/short-control"
  run "topics of a short control file" 0 "$MLOPS" topics "mmap://$WORK/short"
  check "topics counts every record ($all_records)" grep -qE "^busy +$all_records " "$WORK/out"
  check "topics left the short control file alone" cmp -s "$WORK/short/busy/control" "$WORK/short-control"
  run "tail a short control file" 0 "$MLOPS" -v tail "mmap://$WORK/short" busy --timeout 200
  check "tail delivers every record" lines_are "$WORK/out" "$all_records"
  check "tail logs the restored control file" grep -qF "short/busy/control' was cut short to 100 bytes" "$WORK/err"
  check "the control file has its size again" [ "$(stat -c %s "$WORK/short/busy/control")" -eq 4096 ]

  # One topic damaged beyond reading (attack7 F2): the others are still listed, the damaged
  # one is named on stderr, and the exit status says something was left out.
  mkdir "$WORK/mixed"
  cp -r "$Q/busy" "$WORK/mixed/busy"
  cp -r "$Q/busy" "$WORK/mixed/broken"
  truncate -s 4 "$WORK/mixed/broken/control"
  run "topics with a damaged topic" 1 "$MLOPS" topics "mmap://$WORK/mixed"
  check "topics lists the healthy topic" grep -qE "^busy +$all_records " "$WORK/out"
  check "topics names the damaged topic" contains "$WORK/err" "'broken' ("
  run "groups with a damaged topic" 1 "$MLOPS" groups "mmap://$WORK/mixed"
  check "groups names the damaged topic" contains "$WORK/err" "'broken' ("
fi

echo "$checks checks passed, $failures failed ($BACKEND)"
[ "$failures" -eq 0 ]
