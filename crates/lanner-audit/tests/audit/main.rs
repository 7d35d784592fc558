//! Integration tests of lanner-audit, in one test binary: decoding, input framing, every
//! catalog field, the Falco trace corpus, robustness against arbitrary bytes, and the
//! generated field reference.

mod common;
mod decode;
mod docs;
mod fields;
mod input;
mod robustness;
mod traces;
