"""AI generation: page-builder blocks written by a provider as structured output, validated before use."""
