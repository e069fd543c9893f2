-- wrk: POST a fresh PHQ-9 check-in (a new id each time) as one signed-in patient.
-- TM_PATH, TM_COOKIE, TM_CSRF and TM_BENCH come from bench/load.py. Each check-in is taken at
-- its own moment in the last five minutes (wrk_common.lua).
local counter = 0
function setup(thread)
  counter = counter + 1
  thread:set("seed", counter)
end

function init(args)
  math.randomseed(os.time() * 1000 + seed)
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
  wrk.headers["Cookie"] = os.getenv("TM_COOKIE") or ""
  wrk.headers["X-CSRF-Token"] = os.getenv("TM_CSRF") or ""
end

local common = dofile(os.getenv("TM_BENCH") .. "/wrk_common.lua")
local uuid, taken_at = common.uuid, common.taken_at

function request()
  local body = '{"id":"' .. uuid() .. '","instrument":"phq9","answers":[1,2,1,2,1,1,0,1,0],'
    .. '"taken_at":"' .. taken_at() .. '","context":"routine"}'
  return wrk.format(nil, os.getenv("TM_PATH"), nil, body)
end
