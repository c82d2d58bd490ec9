//! Adapters for the engine's model ports.
