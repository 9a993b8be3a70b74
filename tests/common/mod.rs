//! Helpers shared by integration tests that need a browser.
#![allow(dead_code)]

pub mod browser;
