"""The learner's catalogue: the published items granted to the caller, as row level security shows them."""
