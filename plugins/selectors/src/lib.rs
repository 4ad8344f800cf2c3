//! Built-in selector plugins: hybrid, random, first, most-steps, fewest-steps, verifier-max, patch-consensus.
