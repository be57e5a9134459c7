-- Anonymous POST /api/auth/login/ with a JSON body, rotating over several users
-- so that concurrent logins do not all update the same row.
-- Env: BENCH_USERNAMES (comma-separated), BENCH_PASSWORD (shared by those users).
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local report = dofile(here .. "report.lua")

local function json_string(value)
  return '"' .. value:gsub('[%c"\\]', function(c) return string.format("\\u%04x", c:byte()) end) .. '"'
end

local password = json_string(assert(os.getenv("BENCH_PASSWORD"), "BENCH_PASSWORD is not set"))
local bodies = {}
for username in assert(os.getenv("BENCH_USERNAMES"), "BENCH_USERNAMES is not set"):gmatch("[^,]+") do
  bodies[#bodies + 1] = string.format('{"username": %s, "password": %s}', json_string(username), password)
end
local headers = { ["Content-Type"] = "application/json", ["Accept"] = "application/json" }
local counter = 0

function request()
  counter = counter + 1
  return wrk.format("POST", nil, headers, bodies[counter % #bodies + 1])
end

done = report.done
