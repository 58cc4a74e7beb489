"""Store adapters: write and publish a batch, store upkeep, Vigil's own metrics."""
