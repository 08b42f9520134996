// Hoverfeed's only first-party script: generic glue, no page-specific logic.
