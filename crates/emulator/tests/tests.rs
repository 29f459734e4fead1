//! The emulator's integration tests, in one binary (linked once): every code of both APIs over
//! real sockets, and a real third-party client against the virtual display.

mod bravia_api;
mod every_bravia_code;
mod every_thinq_code;
