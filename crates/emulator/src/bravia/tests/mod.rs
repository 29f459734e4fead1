//! Tests of the virtual display: handlers without a socket, every natural code over a real
//! socket, and the method table against a real display's dumps.

mod client;
mod handlers;
mod socket;
mod table;
