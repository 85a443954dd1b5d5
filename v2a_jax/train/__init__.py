"""Training infrastructure shared by every model (the AR LM, the refiner).

- optim.py: AdamW, warm-up + cosine schedule, gradient clipping
- step.py: TrainState, pure train_step / eval_step over split NNX state
- data.py: batches from a tokenized set, resumable Position, random crops
- checks.py: the data set against a token model (codec info, token ids, length)
- checkpoint.py: orbax CheckpointManager, export_params, load_model
- metrics.py: metrics.jsonl, TensorBoard, progress bar
- loop.py: train(config, workdir, build=..., loss_fn=...)
"""
