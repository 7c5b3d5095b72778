"""rnnprobe's own numpy face of the stages: the cells' equations, the forward engine behind
`--check` and `--steps`, and backpropagation through time, all from the named weights."""
