-- wrk: POST a fresh PHQ-9 check-in (a new id each time) as one signed-in patient.
-- TM_PATH, TM_COOKIE and TM_CSRF come from bench/load.py. Each check-in is taken at its own
-- moment in the last five minutes, as real ones are (not hundreds tied at one instant).
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

local function uuid()
  return (("xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx"):gsub("[xy]", function(c)
    return string.format("%x", c == "x" and math.random(0, 15) or math.random(8, 11))
  end))
end

local function taken_at()
  local moment = os.time() - 300 + math.random(0, 240)
  return os.date("!%Y-%m-%dT%H:%M:%S", moment) .. string.format(".%06dZ", math.random(0, 999999))
end

function request()
  local body = '{"id":"' .. uuid() .. '","instrument":"phq9","answers":[1,2,1,2,1,1,0,1,0],'
    .. '"taken_at":"' .. taken_at() .. '","context":"routine"}'
  return wrk.format(nil, os.getenv("TM_PATH"), nil, body)
end
