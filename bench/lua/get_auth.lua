-- Authenticated GET of the URL given to wrk, rotating over several users' tokens
-- (one user's throttle history would otherwise grow with the request rate).
-- Env: BENCH_TOKENS (comma-separated access JWTs).
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local report = dofile(here .. "report.lua")

local requests = {}
for token in assert(os.getenv("BENCH_TOKENS"), "BENCH_TOKENS is not set"):gmatch("[^,]+") do
  requests[#requests + 1] = wrk.format("GET", nil, { ["Authorization"] = "Bearer " .. token, ["Accept"] = "application/json" })
end
local counter = 0

function request()
  counter = counter + 1
  return requests[counter % #requests + 1]
end

done = report.done
