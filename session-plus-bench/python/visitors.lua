-- wrk script for flask_run.sh's "/hit, 64 visitors" rows: each request carries the cookies of
-- one of many visitors (the file $VISITORS: one Cookie header per line), in turn, each thread
-- starting at another one, so that concurrent requests seldom share a session (as on a real
-- site), unlike the single-visitor rows, where every request writes the same session.
local visitors = {}
for line in io.lines(os.getenv("VISITORS")) do
    visitors[#visitors + 1] = line
end

local threads = 0
function setup(thread)
    thread:set("next_visitor", threads * 17)
    threads = threads + 1
end

function request()
    next_visitor = next_visitor + 1
    local cookie = visitors[(next_visitor % #visitors) + 1]
    return wrk.format(nil, nil, { ["Cookie"] = cookie })
end
