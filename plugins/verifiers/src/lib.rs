//! Built-in verifier plugins that need no model: oracle and constant.
