-- Anonymous GET of the URL given to wrk (GET /healthz, the framework ceiling).
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local report = dofile(here .. "report.lua")

wrk.headers["Accept"] = "application/json"

done = report.done
