-- wrk: editor saves (updateTopic) mixed 1:20 with reads.
-- Arguments: the read body file, an editor's access token, the number of topics, threads.
-- Each thread saves its own share of the topics, round robin, tracking their versions,
-- so saves only conflict when one topic's save is still in flight when its turn comes again.
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
  counter, turn, saves, failed = 0, 0, 0, 0
  versions = {}
end

function request()
  counter = counter + 1
  if counter % 21 ~= 0 then
    return read_request
  end
  turn = turn + 1
  local id = offset + thread_total * (turn % per_thread)
  local version = versions[id] or 1
  versions[id] = version + 1
  local body = string.format(
    '{"query":"mutation($i: UpdateTopicInput!) { updateTopic(input: $i) { topic { version } } }",' ..
    '"variables":{"i":{"id":"%d","expectedVersion":%d,"summary":"Saved by the benchmark, turn %d."}}}',
    id, version, turn)
  return wrk.format("POST", nil, {
    ["Content-Type"] = "application/json",
    ["Authorization"] = "Bearer " .. token,
  }, body)
end

function response(status, headers, body)
  if string.find(body, "updateTopic", 1, true) then
    if string.find(body, '"errors"', 1, true) then
      failed = failed + 1
    else
      saves = saves + 1
    end
  end
end

function done(summary, latency, requests)
  local ok, bad = 0, 0
  for _, thread in ipairs(threads) do
    ok = ok + thread:get("saves")
    bad = bad + thread:get("failed")
  end
  io.write(string.format("saves ok %d, failed %d\n", ok, bad))
end
