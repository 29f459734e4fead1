//! Tests of the virtual display: handlers without a socket, every natural code over a real
//! socket, and the method table against a real display's dumps.

mod catalog;
mod client;
mod handlers;
mod shapes;
mod socket;
mod table;
