//! cosocket-memcached (being written).
