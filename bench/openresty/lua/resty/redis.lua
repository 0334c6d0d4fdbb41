-- Debian ships lua-resty-redis as "nginx.redis" (package lua-nginx-redis).
return require "nginx.redis"
