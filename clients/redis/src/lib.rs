//! cosocket-redis (being written).
