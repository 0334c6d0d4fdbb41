-- Debian ships lua-resty-memcached as "nginx.memcached" (package lua-nginx-memcached).
return require "nginx.memcached"
