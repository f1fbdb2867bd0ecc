"""The DSL: loading YAML 1.2/JSON documents, validation, and the immutable model."""
