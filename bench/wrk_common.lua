-- What bench/checkin.lua and bench/mixed.lua share: loaded by each wrk thread with
-- dofile(os.getenv("TM_BENCH") .. "/wrk_common.lua"); bench/load.py sets TM_BENCH.
local common = {}

-- A random version-4 UUID: a new entry id.
function common.uuid()
  return (("xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx"):gsub("[xy]", function(c)
    return string.format("%x", c == "x" and math.random(0, 15) or math.random(8, 11))
  end))
end

-- A moment in the last five minutes, to the microsecond: each check-in taken at its own
-- moment, as real ones are (not hundreds tied at one instant).
function common.taken_at()
  local moment = os.time() - 300 + math.random(0, 240)
  return os.date("!%Y-%m-%dT%H:%M:%S", moment) .. string.format(".%06dZ", math.random(0, 999999))
end

return common
