-- Authenticated POST of a JSON body to the URL given to wrk.
-- Env: BENCH_TOKEN (an access JWT), BENCH_BODY (the JSON document).
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local report = dofile(here .. "report.lua")

wrk.method = "POST"
wrk.body = assert(os.getenv("BENCH_BODY"), "BENCH_BODY is not set")
wrk.headers["Authorization"] = "Bearer " .. assert(os.getenv("BENCH_TOKEN"), "BENCH_TOKEN is not set")
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Accept"] = "application/json"

done = report.done
