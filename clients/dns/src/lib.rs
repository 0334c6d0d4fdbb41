//! cosocket-dns (being written).
