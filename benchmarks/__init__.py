"""emitflow's benchmarks: figures, not assertions (see BENCHMARKS.md)."""
