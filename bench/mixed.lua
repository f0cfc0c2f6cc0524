-- wrk: editor saves (updateTopic) mixed 1:20 with reads.
-- Arguments: the read body file, an editor's access token, the number of topics, threads.
-- Each thread saves its own share of the topics, round robin, tracking their versions from
-- the answers: the mutation is aliased `t<id>`, so a success (`version`) or a CONFLICT
-- (`currentVersion`, its `path`) names the topic it is about, and a topic whose save is
-- still in flight is skipped. A save fails only when something other than the benchmark
-- changed the topic, or the server erred.
local threads = {}
local thread_count = 0

function setup(thread)
  thread_count = thread_count + 1
  thread:set("offset", thread_count)
  table.insert(threads, thread)
end

function init(args)
  local file = assert(io.open(args[1], "rb"))
  read_request = wrk.format("POST", nil, { ["Content-Type"] = "application/json" }, file:read("*a"))
  file:close()
  token = args[2]
  topics = tonumber(args[3])
  thread_total = tonumber(args[4])
  per_thread = math.max(1, math.floor(topics / thread_total))
  counter, turn, saves, failed, resynced = 0, 0, 0, 0, 0
  versions, in_flight = {}, {}
  -- Runs share the database: start each at a random place in this thread's share, so one
  -- run's saves rarely meet topics an earlier run moved on (those count as `resynced`).
  math.randomseed(os.time() * 100 + offset)
  turn = math.random(0, per_thread - 1)
end

function request()
  counter = counter + 1
  if counter % 21 ~= 0 then
    return read_request
  end
  local id
  for _ = 1, per_thread do
    turn = turn + 1
    local candidate = offset + thread_total * (turn % per_thread)
    if not in_flight[candidate] then
      id = candidate
      break
    end
  end
  if id == nil then
    return read_request
  end
  in_flight[id] = true
  local body = string.format(
    '{"query":"mutation($i: UpdateTopicInput!) { t%d: updateTopic(input: $i) { topic { version } } }",' ..
    '"variables":{"i":{"id":"%d","expectedVersion":%d,"summary":"Saved by the benchmark, turn %d."}}}',
    id, id, versions[id] or 1, turn)
  return wrk.format("POST", nil, {
    ["Content-Type"] = "application/json",
    ["Authorization"] = "Bearer " .. token,
  }, body)
end

function response(status, headers, body)
  local id = tonumber(string.match(body, '"t(%d+)"'))
  if id == nil then
    return
  end
  in_flight[id] = nil
  if string.find(body, '"errors"', 1, true) then
    local current = tonumber(string.match(body, '"currentVersion":(%d+)'))
    if current and versions[id] == nil then
      -- The first save of a topic this run guessed version 1; an earlier run moved it on.
      resynced = resynced + 1
    else
      failed = failed + 1
    end
    if current then
      versions[id] = current
    end
  else
    saves = saves + 1
    versions[id] = tonumber(string.match(body, '"version":(%d+)')) or (versions[id] or 1) + 1
  end
end

function done(summary, latency, requests)
  local ok, bad, first = 0, 0, 0
  for _, thread in ipairs(threads) do
    ok = ok + thread:get("saves")
    bad = bad + thread:get("failed")
    first = first + thread:get("resynced")
  end
  io.write(string.format("saves ok %d, failed %d, resynced %d\n", ok, bad, first))
end
