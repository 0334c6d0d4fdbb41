-- The OpenResty half of BENCHMARKS.md §1, run inside one nginx worker by bench/run.py
-- (adapted from shared/bench/openresty: the stream readers only).
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

return _M
