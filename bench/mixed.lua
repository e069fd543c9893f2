-- wrk: a clinic's mixed load on one instance, for `make bench-scale` (bench/load.py --scale-out).
-- Each request is, at random: a fresh PHQ-9 check-in (a new id, its own taken_at), a read (the
-- patient's entries or summary), or a replay: one id per second of the run, the same body from
-- every thread of both wrk processes, so each is sent to both instances at about one moment.
-- The patient rotates per request over the signed-in patients of TM_PATIENTS (lines of
-- "patient_id<TAB>cookie<TAB>csrf", every cookie from one sign-in, used on both instances).
-- Every answer is written, one line each, to TM_OUT/<TM_NAME>-<thread>.log:
-- "<status> entry <id>" (an entry came back), "<status> read", or "<status> error <body>".
-- done() prints "TM-SENT fresh=<n> read=<n> replay=<n>": what the threads sent.
local threads = {}
local counter = 0

function setup(thread)
  counter = counter + 1
  thread:set("tid", counter)
  table.insert(threads, thread)
end

local patients = {}
local log
local turn = 0
sent_fresh, sent_read, sent_replay = 0, 0, 0

function init(args)
  -- Every thread of every wrk process draws its own ids (TM_SEED tells the processes apart).
  math.randomseed(os.time() * 1000 + tid * 7919 + tonumber(os.getenv("TM_SEED") or "0") * 104729)
  for line in io.lines(os.getenv("TM_PATIENTS")) do
    local pid, cookie, csrf = line:match("^([^\t]+)\t([^\t]+)\t([^\t]+)$")
    if pid then
      table.insert(patients, { pid = pid, cookie = cookie, csrf = csrf })
    end
  end
  log = io.open(os.getenv("TM_OUT") .. "/" .. os.getenv("TM_NAME") .. "-" .. tid .. ".log", "w")
  log:setvbuf("line")
end

local common = dofile(os.getenv("TM_BENCH") .. "/wrk_common.lua")
local uuid, taken_at = common.uuid, common.taken_at

local function checkin(id, moment)
  return '{"id":"' .. id .. '","instrument":"phq9","answers":[1,2,1,2,1,1,0,1,0],'
    .. '"taken_at":"' .. moment .. '","context":"routine"}'
end

local function headers(patient)
  return {
    ["Content-Type"] = "application/json",
    ["Cookie"] = patient.cookie,
    ["X-CSRF-Token"] = patient.csrf,
  }
end

local mix_fresh = tonumber(os.getenv("TM_FRESH") or "70")
local mix_read = tonumber(os.getenv("TM_READ") or "15")
local run = os.getenv("TM_RUN") or "00000000"
local start = tonumber(os.getenv("TM_START") or tostring(os.time()))

function request()
  turn = turn + 1
  local roll = math.random(1, 100)
  if roll <= mix_fresh then
    local patient = patients[turn % #patients + 1]
    sent_fresh = sent_fresh + 1
    local path = "/api/v1/patients/" .. patient.pid .. "/entries"
    return wrk.format("POST", path, headers(patient), checkin(uuid(), taken_at()))
  elseif roll <= mix_fresh + mix_read then
    local patient = patients[turn % #patients + 1]
    sent_read = sent_read + 1
    local path = "/api/v1/patients/" .. patient.pid
      .. (turn % 2 == 0 and "/entries?limit=50" or "/summary?instrument=phq9")
    return wrk.format("GET", path, headers(patient), nil)
  end
  -- A replay: the id of the current second of the run, its patient and body fixed by that
  -- second alone, so every thread of both wrk processes replaying in that second sends the
  -- same entry to its instance at about the same moment.
  sent_replay = sent_replay + 1
  local slot = os.time() - start
  local patient = patients[slot % #patients + 1]
  local id = string.format("%s-0000-4000-8000-%012x", run, slot)
  local moment = os.date("!%Y-%m-%dT%H:%M:%S", start - 290 + slot % 240)
    .. string.format(".%06dZ", (slot * 7919) % 1000000)
  local path = "/api/v1/patients/" .. patient.pid .. "/entries"
  return wrk.format("POST", path, headers(patient), checkin(id, moment))
end

function response(status, headers, body)
  if status >= 200 and status < 300 then
    -- An entry's keys come sorted: "answers" first; its own id is the top-level "id" (the
    -- one in entered_by follows a "{", never a ",").
    local id = body:find('^%s*{%s*"answers"') and body:match(',%s*"id"%s*:%s*"([%w%-]+)"')
    if id then
      log:write(status, " entry ", id, "\n")
    else
      log:write(status, " read\n")
    end
  else
    log:write(status, " error ", (body or ""):sub(1, 200):gsub("[\r\n]", " "), "\n")
  end
end

function done(summary, latency, requests)
  local fresh, read, replay = 0, 0, 0
  for _, thread in ipairs(threads) do
    fresh = fresh + thread:get("sent_fresh")
    read = read + thread:get("sent_read")
    replay = replay + thread:get("sent_replay")
  end
  io.write(string.format("TM-SENT fresh=%d read=%d replay=%d\n", fresh, read, replay))
end
