//! cosocket-http (being written).
