//! Importers and exporters for formats other tools use.
