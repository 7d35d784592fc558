//! lanner-engine
