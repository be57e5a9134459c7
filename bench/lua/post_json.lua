-- Authenticated POST of a JSON body to the URL given to wrk, rotating over
-- several users' tokens. Env: BENCH_TOKENS (comma-separated access JWTs),
-- BENCH_BODY (the JSON document).
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local report = dofile(here .. "report.lua")

local body = assert(os.getenv("BENCH_BODY"), "BENCH_BODY is not set")
local requests = {}
for token in assert(os.getenv("BENCH_TOKENS"), "BENCH_TOKENS is not set"):gmatch("[^,]+") do
  local headers = {
    ["Authorization"] = "Bearer " .. token,
    ["Content-Type"] = "application/json",
    ["Accept"] = "application/json",
  }
  requests[#requests + 1] = wrk.format("POST", nil, headers, body)
end
local counter = 0

function request()
  counter = counter + 1
  return requests[counter % #requests + 1]
end

done = report.done
