"""The models side of the evaluation: the embedder contract (`protocol`, `regions`), the registry
(`spec`, `registry`, `custom`, `listing`) whose registrations are data, VIRTUE (`virtue`,
`virtue_models`, `virtue_sam`), the Qwen2-VL backbone it shares with VLM2Vec (`qwen2vl`,
`qwen2vl_load`), checkpoints, image preprocessing, the vision-tower cache and the hub checks."""
