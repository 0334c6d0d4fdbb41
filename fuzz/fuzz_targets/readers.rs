#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| cosocket_fuzz::readers(data));
