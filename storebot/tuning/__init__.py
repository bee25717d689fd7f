"""Style fine-tuning: training data, backends, the evaluation gate and the per-store model registry."""
