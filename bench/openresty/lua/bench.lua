-- The OpenResty half of BENCHMARKS.md §1 and §5, run inside one nginx worker by
-- bench/run.py (adapted from shared/bench/openresty): the stream readers, and
-- lua-resty-redis / lua-resty-memcached.
local _M = {}

local ngx = ngx
local fmt = string.format

local function now()
    ngx.update_time()
    return ngx.now()
end

local function say_json(t)
    local parts = {}
    for k, v in pairs(t) do
        if type(v) == "string" then
            parts[#parts + 1] = fmt('"%s":"%s"', k, v)
        else
            parts[#parts + 1] = fmt('"%s":%s', k, tostring(v))
        end
    end
    ngx.say("{" .. table.concat(parts, ",") .. "}")
end

-- GET /stream?mode=line|fixed|any|until|until_size&dataset=..&total=..&port=..&size=..
function _M.stream()
    local a = ngx.req.get_uri_args()
    local mode, dataset = a.mode, a.dataset
    local total, port = tonumber(a.total), tonumber(a.port)
    local size = tonumber(a.size or 65536)
    local sock = ngx.socket.tcp()
    sock:settimeout(60000)
    assert(sock:connect("127.0.0.1", port))
    if a.tls then
        -- BENCHMARKS.md §4: over TLS, unverified (the blaster's certificate is its own).
        assert(sock:sslhandshake(nil, nil, false))
    end
    assert(sock:send(dataset .. " " .. total .. "\n"))

    local bytes, items, err_end = 0, 0, nil
    local t0 = now()
    if mode == "line" then
        while true do
            local line, err, partial = sock:receive("*l")
            if not line then
                bytes = bytes + #partial
                err_end = err
                break
            end
            bytes = bytes + #line
            items = items + 1
        end
    elseif mode == "fixed" then
        while true do
            local data, err, partial = sock:receive(size)
            if not data then
                bytes = bytes + #partial
                err_end = err
                break
            end
            bytes = bytes + #data
            items = items + 1
        end
    elseif mode == "any" then
        while true do
            local data, err = sock:receiveany(size)
            if not data then
                err_end = err
                break
            end
            bytes = bytes + #data
            items = items + 1
        end
    elseif mode == "until" then
        local reader = sock:receiveuntil(a.pattern or "\r\n--boundary")
        while true do
            local data, err, partial = reader()
            if not data then
                bytes = bytes + #partial
                err_end = err
                break
            end
            bytes = bytes + #data
            items = items + 1
        end
    elseif mode == "until_size" then
        local reader = sock:receiveuntil(a.pattern or "\r\n--boundary")
        while true do
            local data, err, partial = reader(size)
            if not data then
                if err then
                    bytes = bytes + #partial
                    err_end = err
                    break
                end
                items = items + 1      -- nil, nil: end of one part
            else
                bytes = bytes + #data
            end
        end
    else
        ngx.status = 400
        ngx.say("bad mode")
        return
    end
    local dt = now() - t0
    sock:close()
    say_json({ mode = mode, dataset = dataset, total = total, payload_bytes = bytes,
               items = items, seconds = dt, mb_per_s = total / dt / 1e6,
               end_err = tostring(err_end) })
end

-- GET /kv?backend=redis|memc&port=..&op=set|get&mode=persistent|pooled|pipeline&n=..&conc=..
-- SET or GET of 100-byte values on keys k0..k999 (filled first, not timed); `conc` light
-- threads share `n` operations; `pipeline` sends 100 commands per round trip (Redis).
function _M.kv()
    local a = ngx.req.get_uri_args()
    local backend, mode, opn = a.backend, a.mode, a.op
    local n, conc, port = tonumber(a.n), tonumber(a.conc or 1), tonumber(a.port)
    local lib = backend == "redis" and require("resty.redis") or require("resty.memcached")
    local val = string.rep("v", 100)
    local errors = 0

    local function connect()
        local c = lib:new()
        c:set_timeout(5000)
        local ok, err = c:connect("127.0.0.1", port)
        if not ok then error("connect: " .. tostring(err)) end
        return c
    end

    -- In a pipeline a command only queues (it returns nothing): no check then.
    local function op(c, i, piped)
        local k = "k" .. (i % 1000)
        if piped then
            if opn == "set" then c:set(k, val) else c:get(k) end
        elseif opn == "set" then
            local ok, err = c:set(k, val)
            if not ok then error("set: " .. tostring(err)) end
        else
            local v, err = c:get(k)
            if not v or v == ngx.null then error("get: " .. tostring(err)) end
        end
    end

    local function worker(cnt, base)
        if mode == "persistent" then
            local c = connect()
            for i = 1, cnt do op(c, base + i) end
            c:set_keepalive(10000, 200)
        elseif mode == "pooled" then
            for i = 1, cnt do
                local c = connect()
                op(c, base + i)
                local ok, err = c:set_keepalive(10000, 200)
                if not ok then error("set_keepalive: " .. tostring(err)) end
            end
        else -- pipeline (Redis): 100 commands per commit
            local c = connect()
            for b = 0, math.floor(cnt / 100) - 1 do
                c:init_pipeline(100)
                for i = 1, 100 do op(c, base + b * 100 + i, true) end
                local res, err = c:commit_pipeline()
                if not res or #res ~= 100 then error("pipeline: " .. tostring(err)) end
            end
            c:set_keepalive(10000, 200)
        end
        return true
    end

    do
        local c = connect()
        for i = 0, 999 do assert(c:set("k" .. i, val)) end
        c:set_keepalive(10000, 200)
    end

    local t0 = now()
    local per = math.floor(n / conc)
    if conc == 1 then
        local ok, err = pcall(worker, per, 0)
        if not ok then errors = errors + 1; ngx.log(ngx.ERR, err) end
    else
        local threads = {}
        for t = 1, conc do
            threads[t] = ngx.thread.spawn(function() return pcall(worker, per, t * per) end)
        end
        for t = 1, conc do
            local ok, pok, err = ngx.thread.wait(threads[t])
            if not ok or not pok then errors = errors + 1; ngx.log(ngx.ERR, tostring(err or pok)) end
        end
    end
    -- ngx.now() counts milliseconds: a run shorter than one would divide by zero.
    local dt = math.max(now() - t0, 0.001)
    say_json({ backend = backend, op = opn, mode = mode, conc = conc, n = per * conc,
               seconds = dt, ops_per_s = per * conc / dt, errors = errors })
end

return _M
