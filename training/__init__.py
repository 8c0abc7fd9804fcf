"""Training-side code for bpdetect: dataset adapters, gold-to-block labeling, splits, training and evaluation."""
