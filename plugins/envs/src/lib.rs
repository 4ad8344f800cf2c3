//! Built-in environments.
